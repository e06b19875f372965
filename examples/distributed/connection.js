// The Redis every part of the example uses: REDIS_URL (redis://[user:password@]host[:port][/db]),
// default redis://127.0.0.1:6379. QUEUE names the queue (default 'images').
'use strict'

function redisConnection(url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379') {
  const u = new URL(url)
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new Error(`REDIS_URL must be redis://host:port (or rediss://); got ${url}`)
  return {
    host: u.hostname,
    port: Number(u.port || 6379),
    username: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    db: Number(u.pathname.slice(1) || 0),
    tls: u.protocol === 'rediss:' ? {} : undefined,
  }
}

const QUEUE = process.env.QUEUE ?? 'images'

module.exports = { redisConnection, QUEUE }
