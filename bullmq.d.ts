// require('offload/bullmq'): offload pools as BullMQ's job processors.
// `bullmq` (6.x) is an optional peer dependency of this entry only.

import type {
  Worker as BullWorker,
  WorkerOptions as BullWorkerOptions,
  Job,
  BackendFactory,
  ConnectionOptions,
  IQueueBackend,
  JobProgress,
  RedisQueueBackend,
} from 'bullmq'
import type { Pool, PoolOptions } from './index'

/** Options for the Pool that runs a processor file (`script`, `args` and `command` are the Worker's). */
export type SandboxPoolOptions = Omit<PoolOptions, 'script' | 'command' | 'args'>

/** TypeScript's NoInfer for compilers before 5.4 (BullMQ's own trick): the connection type comes from the backend factory. */
type NoInferType<T> = [T][T extends any ? 0 : never]

declare module 'bullmq' {
  interface BaseJobOptions {
    /**
     * offload/bullmq: milliseconds this job may run, instead of the pool's
     * `taskTimeout` (`0`: none for this job); past it the job fails with ERR_OFFLOAD_TIMEOUT, even if its
     * processor is stuck in a CPU loop (the worker is killed and replaced).
     * BullMQ stores it with the job's options on Redis and on PostgreSQL.
     */
    timeout?: number
  }
}

export interface WorkerOptions<ConnectionOptionsType = ConnectionOptions> extends BullWorkerOptions<ConnectionOptionsType> {
  /**
   * The offload Pool that runs a processor file's jobs: `size`, `minSize`,
   * `maxTasksPerWorker`, `maxRssBytes`, `idleTimeout`, `limits`, `taskTimeout`
   * (ERR_OFFLOAD_TIMEOUT, even in a CPU loop; a job's own `timeout` option
   * replaces it), `env`, `cwd`, `stderr`, …
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
export declare class Worker<
  DataType = any,
  ResultType = any,
  NameType extends string = string,
  B extends IQueueBackend = RedisQueueBackend,
  ProgressType extends JobProgress = JobProgress,
  ConnectionOptionsType = ConnectionOptions,
> extends BullWorker<DataType, ResultType, NameType, B, ProgressType, ConnectionOptionsType> {
  /** `backendFactory`: BullMQ's, passed on (`createPostgresBackend` for PostgreSQL; `connection` is then pg's). */
  constructor(name: string, processor: string | URL | Pool, options: WorkerOptions<NoInferType<ConnectionOptionsType>>, backendFactory: BackendFactory<B, ConnectionOptionsType>)
  constructor(name: string, processor: string | URL | Pool, options: WorkerOptions<NoInferType<ConnectionOptionsType>>, backendFactory?: undefined)
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
