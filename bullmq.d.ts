// require('offload/bullmq'): offload pools as BullMQ's job processors.
// `bullmq` (6.x) is an optional peer dependency of this entry only.

import type { Worker as BullWorker, WorkerOptions as BullWorkerOptions, Job } from 'bullmq'
import type { Pool, PoolOptions } from './index'

/** Options for the Pool that runs a processor file (`script`, `args` and `command` are the Worker's). */
export type SandboxPoolOptions = Omit<PoolOptions, 'script' | 'command' | 'args'>

export interface WorkerOptions extends BullWorkerOptions {
  /**
   * The offload Pool that runs a processor file's jobs: `size`, `minSize`,
   * `maxTasksPerWorker`, `maxRssBytes`, `idleTimeout`, `limits`, `taskTimeout`
   * (ERR_OFFLOAD_TIMEOUT, even in a CPU loop), `env`, `cwd`, `stderr`, …
   * `concurrency` (BullMQ's) defaults to the pool's capacity.
   */
  pool?: SandboxPoolOptions
  /** For a Pool processor: the serve() handler for a job (a name, or `(job) => name`). */
  handler?: string | ((job: Job) => string | undefined)
}

/**
 * BullMQ's Worker (the same events and methods) whose jobs run in offload Pool
 * workers. `processor`: the path or file URL of an unchanged BullMQ sandboxed
 * processor file, or an offload Pool of `serve()` workers (the task is
 * `job.data`; `context.meta` is `{ id, name }` of the job; close() leaves it open).
 */
export declare class Worker<DataType = any, ResultType = any, NameType extends string = string> extends BullWorker<DataType, ResultType, NameType> {
  /** `backendFactory`: BullMQ's (its PostgreSQL backend, for one), passed on; only Redis is tested here. */
  constructor(name: string, processor: string | URL | Pool, options: WorkerOptions, backendFactory?: unknown)
  /** The offload Pool that runs this Worker's jobs. */
  readonly pool: Pool
  /** BullMQ's close, then the pool it made is closed (destroyed with `force`). */
  close(force?: boolean): Promise<void>
}

export interface ProcessorOptions {
  /** The serve() handler for a job: a name, or `(job) => name`. Default: the worker's default handler. */
  handler?: string | ((job: Job) => string | undefined)
}

/**
 * The processor function for BullMQ's own Worker: each job runs as
 * `pool.run(job.data, { signal, handler, meta: { id, name } })`.
 */
export declare function createProcessor<DataType = any, ResultType = any>(
  pool: Pool,
  options?: ProcessorOptions,
): (job: Job<DataType, ResultType>, token?: string, signal?: AbortSignal) => Promise<ResultType>
