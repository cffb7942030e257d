import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Engine } from '@tandem/engine'
import { isRemoteMethod } from '@tandem/engine/remote'
import { errorBody, toWire } from '../../apps/chat/src/api/wire.js'

/**
 * The remote device wire (packages/engine/src/remote/remote-api.ts), as little of it as a test
 * of the page's client needs, over a real Node engine on 127.0.0.1: `POST /rpc` and `GET
 * /events` behind a bearer token, CORS open to the page's origin (the page is served from
 * another port). Not `tandem-device --http` (apps/device serves that): the client's test must
 * not wait for it, and must fail if the client strays from the documented wire.
 */
export async function serveRemoteWire(engine: Engine, token: string): Promise<{ url: string; close(): Promise<void> }> {
  const streams = new Set<ServerResponse>()
  let answer: ((ok: boolean) => void) | null = null

  const call = async (method: string, args: unknown[]): Promise<unknown> => {
    if (method === 'info') return { peerId: engine.peerId, accountId: engine.accountId, account: engine.accountInfo, multiaddrs: engine.multiaddrs() }
    if (method === 'confirmLink') {
      answer?.(args[0] === true)
      return null
    }
    if (method === 'linkDevice') {
      return await engine.linkDevice(String(args[0]), {
        confirm: info =>
          new Promise(resolve => {
            answer = resolve
            send({ type: 'link-confirm', confirmation: info.confirmation })
          })
      })
    }
    if (method === 'showLinkCode') {
      const invite = await engine.showLinkCode()
      return { text: invite.text, expiresAt: invite.expiresAt, qr: { svg: invite.qr('svg') } }
    }
    const fn = (engine as unknown as Record<string, (...a: unknown[]) => unknown>)[method]!
    return await fn.apply(engine, args)
  }

  const send = (event: unknown) => {
    for (const s of streams) s.write(`data: ${JSON.stringify(toWire(event))}\n\n`)
  }
  const off = engine.subscribe(send)

  const reply = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' })
    res.end(JSON.stringify(body))
  }

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    res.setHeader('access-control-allow-origin', req.headers.origin ?? '*')
    res.setHeader('access-control-allow-headers', 'authorization, content-type')
    if (req.method === 'OPTIONS') return reply(res, 204, null)
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    const bearer = url.pathname === '/events' ? url.searchParams.get('token') : req.headers.authorization?.replace(/^Bearer /, '')
    if (bearer !== token) return reply(res, 401, { error: { code: 'ERR_UNAUTHORIZED', message: 'a request without the right token' } })
    if (req.method === 'GET' && url.pathname === '/events') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
      res.write(': connected\n\n')
      streams.add(res)
      req.on('close', () => streams.delete(res))
      return
    }
    if (req.method !== 'POST' || url.pathname !== '/rpc') return reply(res, 404, { error: { code: 'ERR_NOT_FOUND', message: `no ${req.method} ${url.pathname}` } })
    let text = ''
    for await (const chunk of req) text += chunk
    const { method, args } = JSON.parse(text) as { method: unknown; args: unknown[] }
    if (!isRemoteMethod(method)) return reply(res, 400, { error: { code: 'ERR_INVALID_ARGUMENT', message: `no method ${String(method)}` } })
    try {
      reply(res, 200, { result: toWire((await call(method, args)) ?? null) })
    } catch (err) {
      reply(res, 400, { error: errorBody(err) })
    }
  }

  const server = createServer((req, res) => {
    void handle(req, res)
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      // The page's EventSource reconnects at once over a kept-alive socket, and a stream
      // opened then never ends: server.close alone waited for it forever (CI, 2026-12-07).
      off()
      const closed = new Promise(resolve => server.close(resolve))
      server.closeAllConnections()
      streams.clear()
      await closed
    }
  }
}
