// A free loopback port for the servers the tests start (redis-server, postgres).
import net from 'node:net'
import { once } from 'node:events'

/** A loopback port nobody listens on now (another process may take it before the caller does: callers retry). */
export async function freePort() {
  const server = net.createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address()
  server.close()
  await once(server, 'close')
  return port
}
