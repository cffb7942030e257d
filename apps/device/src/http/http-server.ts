import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { timingSafeEqual } from 'node:crypto'
import type { Engine } from '@tandem/engine'
import { isRemoteMethod, type RemoteErrorBody } from '@tandem/engine/remote'
import { RemoteCalls, type ServerEvent } from './remote-calls.js'
import { errorBody, toRemote } from './remote-json.js'

/** A call's body is a method name and its arguments: 1 MiB holds the longest message many times over. */
export const MAX_BODY_BYTES = 1 << 20
/** A comment line this often keeps an idle event stream open through proxies and browser timeouts. */
const KEEPALIVE_MS = 15_000

export interface HttpApiOptions {
  port: number
  token: string
  /** The web origins (the demo page's: by 127.0.0.1 and by localhost) whose scripts may call the API; none: same-origin and non-browser clients only. */
  origins?: readonly string[]
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string
  ) {
    super(message)
  }
}

/** An engine error's status: the call was refused for what it asked (4xx), or the device failed (500). */
function statusOf(body: RemoteErrorBody): number {
  if (body.code === 'ERR_INTERNAL') return 500
  if (body.code === 'ERR_UNKNOWN_CHAT' || body.code === 'ERR_UNKNOWN_MESSAGE') return 404
  if (body.code === 'ERR_ENGINE_STATE') return 409
  return 400
}

/**
 * `tandem-device --http`: the remote device API (see packages/engine/src/remote/remote-api.ts)
 * on 127.0.0.1 only. Every request but a CORS preflight needs the token; every failure is a
 * typed `{error: {code, message}}` and the server keeps serving.
 */
export class HttpApi {
  private readonly streams = new Set<ServerResponse>()
  private readonly calls: RemoteCalls
  private readonly server = createServer((req, res) => {
    void this.handle(req, res)
  })
  private readonly unsubscribe: () => void
  private readonly keepalive: NodeJS.Timeout

  private constructor(
    engine: Engine,
    private readonly options: HttpApiOptions
  ) {
    this.calls = new RemoteCalls(engine, event => this.broadcast(event))
    this.unsubscribe = engine.subscribe(event => this.broadcast(toRemote(event)))
    this.keepalive = setInterval(() => {
      for (const s of this.streams) s.write(': keepalive\n\n')
    }, KEEPALIVE_MS)
    this.keepalive.unref()
  }

  static async start(engine: Engine, options: HttpApiOptions): Promise<HttpApi> {
    const api = new HttpApi(engine, options)
    await new Promise<void>((resolve, reject) => {
      api.server.once('error', reject)
      api.server.listen(options.port, '127.0.0.1', () => {
        api.server.off('error', reject)
        resolve()
      })
    })
    return api
  }

  get url(): string {
    const address = this.server.address()
    if (address === null || typeof address === 'string') throw new Error('the HTTP API is not listening')
    return `http://127.0.0.1:${address.port}`
  }

  async stop(): Promise<void> {
    this.unsubscribe()
    clearInterval(this.keepalive)
    for (const s of this.streams) s.end()
    this.streams.clear()
    this.server.closeAllConnections()
    await new Promise<void>(resolve => this.server.close(() => resolve()))
  }

  private broadcast(event: unknown | ServerEvent): void {
    const line = `data: ${JSON.stringify(event)}\n\n`
    for (const s of this.streams) s.write(line)
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.cors(req, res)
    try {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1')
      if (req.method === 'OPTIONS') {
        res.writeHead(204).end()
        return
      }
      this.authorize(req, url)
      if (url.pathname === '/rpc') {
        if (req.method !== 'POST') throw new HttpError(405, 'ERR_METHOD_NOT_ALLOWED', '/rpc takes POST with {"method", "args"}')
        await this.rpc(req, res)
      } else if (url.pathname === '/events') {
        if (req.method !== 'GET') throw new HttpError(405, 'ERR_METHOD_NOT_ALLOWED', '/events takes GET')
        this.events(req, res)
      } else throw new HttpError(404, 'ERR_NOT_FOUND', `no ${url.pathname} here: the API is POST /rpc and GET /events`)
    } catch (err) {
      const body = errorBody(err)
      reply(res, err instanceof HttpError ? err.status : statusOf(body), { error: body })
    }
  }

  /** Only the given origins' pages may read the answers (each gets its own back); the preflight says which headers they may send. */
  private cors(req: IncomingMessage, res: ServerResponse): void {
    const origin = req.headers.origin
    // Vary even when refused: a cache must not hand one origin's answer to another
    res.setHeader('Vary', 'Origin')
    if (origin === undefined || !(this.options.origins ?? []).includes(origin)) return
    res.setHeader('Access-Control-Allow-Origin', origin)
    res.setHeader('Access-Control-Allow-Methods', 'GET, POST, OPTIONS')
    res.setHeader('Access-Control-Allow-Headers', 'Authorization, Content-Type')
    res.setHeader('Access-Control-Max-Age', '600')
  }

  /** `Authorization: Bearer <token>`, or `?token=` (EventSource cannot set headers); compared in constant time. */
  private authorize(req: IncomingMessage, url: URL): void {
    const header = req.headers.authorization
    const given = header?.startsWith('Bearer ') ? header.slice(7) : url.searchParams.get('token')
    const want = Buffer.from(this.options.token)
    const got = Buffer.from(given ?? '')
    if (given === null || got.length !== want.length || !timingSafeEqual(got, want))
      throw new HttpError(
        401,
        'ERR_UNAUTHORIZED',
        given === null
          ? 'this device API needs its token: send "Authorization: Bearer <token>" (the token is in http.json in the device\'s data dir)'
          : "wrong token: read the current one from http.json in the device's data dir (each start makes a new one)"
      )
  }

  private async rpc(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const text = await readBody(req)
    let call: unknown
    try {
      call = JSON.parse(text)
    } catch {
      throw new HttpError(400, 'ERR_INVALID_JSON', 'the body is not JSON: send {"method": "<name>", "args": [...]}')
    }
    if (typeof call !== 'object' || call === null || Array.isArray(call)) throw new HttpError(400, 'ERR_BAD_REQUEST', 'the body must be a JSON object {"method", "args"}')
    const { method, args = [] } = call as { method?: unknown; args?: unknown }
    if (!isRemoteMethod(method)) throw new HttpError(400, 'ERR_UNKNOWN_METHOD', `${JSON.stringify(method ?? null)} is not a method of the device API`)
    if (!Array.isArray(args)) throw new HttpError(400, 'ERR_INVALID_ARGUMENT', `${method}: "args" must be an array of the method's arguments`)
    const result = await this.calls.call(method, args)
    reply(res, 200, { result: toRemote(result) })
  }

  private events(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', Connection: 'keep-alive' })
    res.write(': connected\n\n') // headers out now, so a client knows it is subscribed before any event
    this.streams.add(res)
    req.on('close', () => this.streams.delete(res))
  }
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) {
    res.end()
    return
  }
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' }).end(JSON.stringify(body))
}

/** The body as text, refused past MAX_BODY_BYTES (read no further: the connection closes after the answer). */
function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > MAX_BODY_BYTES) {
        req.removeAllListeners('data')
        req.resume()
        reject(new HttpError(413, 'ERR_BODY_TOO_LARGE', `a call's body may be at most ${MAX_BODY_BYTES} bytes`))
        return
      }
      chunks.push(chunk)
    })
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}
