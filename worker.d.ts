// require('offload/worker'): the worker side of an offload Pool.

/** What a handler gets besides its task. */
export interface TaskContext {
  /**
   * Fires when the task is aborted (`run(task, { signal })`) or times out. The
   * pool has already rejected the task; stop the work and return or throw
   * within 1 s, or the worker is killed and replaced.
   */
  signal: AbortSignal
  /**
   * Sends `message` (JSON) to the code that ran this task and resolves with what
   * its `pool.run(task, { onRequest })` returned (rejects with what it threw;
   * `ERR_OFFLOAD_NO_REQUEST_HANDLER` when the task was run without one).
   */
  request(message: unknown): Promise<any>
  /** What the parent gave as `pool.run(task, { meta })`; undefined without it. */
  meta?: any
}

/** Answers one task: a value (JSON-serialisable; Buffers/Uint8Arrays cross as raw bytes) or a Promise of one. */
export type Handler<Task = any, Result = any> = (task: Task, context: TaskContext) => Result | Promise<Result>

/**
 * Answers the pool's tasks. Give one handler, or an object of named handlers
 * chosen by `pool.run(task, { handler: name })` (`default`, or the only one,
 * takes tasks with no name). Call it once, when the worker's module loads:
 *
 * ```js
 * const { serve } = require('offload/worker')
 * serve({
 *   async thumbnail({ path, width }, { signal }) { ... },
 *   hash: (buffer) => crypto.createHash('sha256').update(buffer).digest('hex'),
 * })
 * ```
 *
 * A Promise of handlers is for a worker that loads something first: the pool
 * sends it tasks once the promise resolves; if it rejects, the worker prints
 * why and exits 1 (a worker that failed to start).
 *
 * Throws `ERR_OFFLOAD_ALREADY_SERVING` the second time, and
 * `ERR_OFFLOAD_NOT_A_WORKER` in a process no pool (or `child_process.fork()`) started.
 */
export declare function serve(handlers: Handler | Record<string, Handler> | Promise<Handler | Record<string, Handler>>): void
