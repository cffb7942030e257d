// Raw TCP on loopback, the receiving end: counts bytes per connection and answers one byte
// when the sender half-closes. Prints "port N".
import { createServer } from 'node:net'

const server = createServer({ allowHalfOpen: true }, socket => {
  let n = 0
  socket.on('data', d => {
    n += d.byteLength
  })
  socket.on('end', () => {
    socket.end(String(n))
  })
})
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`port ${(server.address() as { port: number }).port}\n`)
})
process.on('SIGTERM', () => {
  server.close()
  process.exit(0)
})
