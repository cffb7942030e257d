import { RemoteClient } from '../http/remote-client.js'
import { readEndpoint } from '../http/token-file.js'

/** No device runs with --http on this data dir: the subcommands that need one say so and exit 1. */
export class NoRunningDeviceError extends Error {
  readonly code = 'ERR_NO_DEVICE'
  constructor(dataDir: string) {
    super(`no device is running on ${dataDir} with its API: start it with \`tandem-device --data ${dataDir} --http\``)
  }
}

/**
 * The device running on `dataDir`, reached through the API address and token it wrote there,
 * or null when there is none (no http.json, or its process is gone and nothing answers).
 */
export async function runningDevice(dataDir: string): Promise<RemoteClient | null> {
  const endpoint = await readEndpoint(dataDir)
  if (endpoint === null) return null
  const client = new RemoteClient(endpoint.url, endpoint.token)
  try {
    await client.call('info')
    return client
  } catch (err) {
    // a stale file (the device was killed) points at a closed port: fetch fails, no answer came
    if ((err as { code?: unknown }).code === undefined || err instanceof TypeError) return null
    throw err
  }
}
