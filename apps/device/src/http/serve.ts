import type { Engine } from '@tandem/engine'
import type { DeviceOptions } from '../options.js'
import { HttpApi } from './http-server.js'
import { endpointFile, newToken, removeEndpoint, writeEndpoint } from './token-file.js'

/** The API is serving: where, and how to stop it (the endpoint file goes with it). */
export interface ServedApi {
  url: string
  token: string
  stop(): Promise<void>
}

/**
 * Starts `--http`: a new token, the API on 127.0.0.1, and http.json in the data dir (mode
 * 0600) so the subcommands and scripts of the same user find it; then says where, as the
 * mode asks (a control event, one JSON line, or a sentence).
 */
export async function serveHttp(engine: Engine, options: DeviceOptions, announce: (served: { url: string; token: string; file: string }) => void): Promise<ServedApi> {
  const token = newToken()
  const api = await HttpApi.start(engine, { port: options.http ?? 0, token, origins: options.httpOrigin })
  await writeEndpoint(options.data, { url: api.url, token, pid: process.pid })
  announce({ url: api.url, token, file: endpointFile(options.data) })
  return {
    url: api.url,
    token,
    stop: async () => {
      await removeEndpoint(options.data, token)
      await api.stop()
    }
  }
}
