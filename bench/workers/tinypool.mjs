// tinypool: the default export runs each task.
export default (task) => task
