import { randomBytes } from 'node:crypto'
import { readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

/** Where a running device's API is and the token it takes: the file only the data dir's owner reads (mode 0600). */
export interface HttpEndpoint {
  url: string
  token: string
  pid: number
}

export const endpointFile = (dataDir: string): string => join(dataDir, 'http.json')

/** 32 random bytes as hex: a new token each start, so a leaked one dies with the process. */
export const newToken = (): string => randomBytes(32).toString('hex')

export async function writeEndpoint(dataDir: string, endpoint: HttpEndpoint): Promise<void> {
  const file = endpointFile(dataDir)
  // removed first: writeFile's mode applies only to a file it creates
  await rm(file, { force: true })
  await writeFile(file, `${JSON.stringify(endpoint)}\n`, { mode: 0o600 })
}

/** The endpoint a device of `dataDir` wrote, or null when none is there (no device ran with --http, or it stopped). */
export async function readEndpoint(dataDir: string): Promise<HttpEndpoint | null> {
  let text: string
  try {
    text = await readFile(endpointFile(dataDir), 'utf8')
  } catch {
    return null
  }
  try {
    const e = JSON.parse(text) as Partial<HttpEndpoint>
    return typeof e.url === 'string' && typeof e.token === 'string' && typeof e.pid === 'number' ? (e as HttpEndpoint) : null
  } catch {
    return null
  }
}

/** Removes the file on a clean stop, only if it is still this process's (a newer device may have replaced it). */
export async function removeEndpoint(dataDir: string, token: string): Promise<void> {
  const current = await readEndpoint(dataDir)
  if (current?.token === token) await rm(endpointFile(dataDir), { force: true })
}
