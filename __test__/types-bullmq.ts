// Type checks for offload/bullmq (compiled by tsc, never run).
import { Worker, createProcessor } from 'offload/bullmq'
import { Pool } from 'offload'
import { Worker as BullWorker, Job, Queue, createPostgresBackend } from 'bullmq'

const worker = new Worker('images', './processor.js', {
  connection: { host: '127.0.0.1', port: 6379 },
  concurrency: 4,
  lockDuration: 30_000,
  pool: { size: 4, maxTasksPerWorker: 100, maxRssBytes: 512 * 2 ** 20, taskTimeout: 60_000, stderr: 'pipe' },
})
worker.on('completed', (job: Job, value: unknown) => console.log(job.id, value))
worker.on('failed', (job: Job | undefined, err: Error) => console.log(job?.id, err.message))
const bull: BullWorker = worker
const size: number = worker.pool.capacity
void worker.close(true)

// A job's own timeout (offload/bullmq adds `timeout` to BullMQ's job options).
const queue = new Queue('images', { connection: { host: '127.0.0.1', port: 6379 } })
void queue.add('resize', { file: 'a.jpg' }, { timeout: 30_000, attempts: 3 })
// @ts-expect-error a timeout is milliseconds
void queue.add('resize', {}, { timeout: '30s' })

// BullMQ's PostgreSQL backend: its connection options, its backend factory.
const onPostgres = new Worker('images', './processor.js', { connection: { host: 'db', database: 'jobs', user: 'worker', migrate: true }, pool: { size: 2 } }, createPostgresBackend)
void onPostgres.close()

const pool = new Pool({ script: './serve-worker.js' })
new Worker('q', pool, { connection: { host: '127.0.0.1', port: 6379 }, handler: (job) => job.name })
const processor = createProcessor(pool, { handler: 'resize' })
new BullWorker('q', processor, { connection: { host: '127.0.0.1', port: 6379 } })

// @ts-expect-error the Worker sets the pool's script
new Worker('q', './p.js', { connection: {}, pool: { script: 'x.js' } })
void bull, size
