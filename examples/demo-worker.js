// An ordinary Node IPC worker, unmodified: offload's fork() speaks Node's format.
process.on('message', ({ words }) => {
  process.send({ longest: words.reduce((a, b) => (b.length > a.length ? b : a)), count: words.length })
})
