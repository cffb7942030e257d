import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { RelayMetrics } from '../metrics.js'

export interface HealthReport {
  ok: boolean
  [k: string]: unknown
}

export interface HttpServerOptions {
  /** Interface to bind (default 127.0.0.1: metrics are for the operator, not the internet). */
  host?: string
  /** Port; 0 picks a free one (the returned url has the real port). */
  port: number
  metrics: RelayMetrics
  health: () => HealthReport
}

export interface HttpServer {
  /** http://host:port */
  readonly url: string
  close(): Promise<void>
}

/**
 * The relay's operator endpoint: GET /healthz (200 + JSON when health().ok,
 * 503 otherwise) and GET /metrics (Prometheus text format); 404 for anything
 * else, 405 for other methods on those two paths.
 */
export async function startHttpServer(options: HttpServerOptions): Promise<HttpServer> {
  const host = options.host ?? '127.0.0.1'
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]
    const send = (status: number, type: string, body: string): void => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) })
      res.end(req.method === 'HEAD' ? undefined : body)
    }
    if (path !== '/healthz' && path !== '/metrics') {
      send(404, 'text/plain; charset=utf-8', 'not found\n')
      return
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD')
      send(405, 'text/plain; charset=utf-8', 'method not allowed\n')
      return
    }
    if (path === '/healthz') {
      let report: HealthReport
      try {
        report = options.health()
      } catch (err) {
        report = { ok: false, error: err instanceof Error ? err.message : String(err) }
      }
      send(report.ok ? 200 : 503, 'application/json', `${JSON.stringify(report)}\n`)
      return
    }
    options.metrics.registry.metrics().then(
      text => {
        send(200, options.metrics.registry.contentType, text)
      },
      (err: unknown) => {
        send(500, 'text/plain; charset=utf-8', `metrics failed: ${err instanceof Error ? err.message : String(err)}\n`)
      }
    )
  })
  // a scraper holding a keep-alive socket must not keep close() waiting
  server.keepAliveTimeout = 5_000
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const { port } = server.address() as AddressInfo
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`
  return {
    url,
    close: async () => {
      await new Promise<void>((resolve, reject) => {
        server.close(err => {
          if (err !== undefined) reject(err)
          else resolve()
        })
        server.closeIdleConnections()
      })
    }
  }
}
