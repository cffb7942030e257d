import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { preview } from 'vite'

/** The chat app's Vite config; its build goes to apps/chat/dist (this file runs from apps/device/dist/demo). */
const CHAT_CONFIG = fileURLToPath(new URL('../../../chat/vite.config.ts', import.meta.url))
const CHAT_DIST = fileURLToPath(new URL('../../../chat/dist/index.html', import.meta.url))

/** The built chat app (`npm run build`) over HTTP on 127.0.0.1, by Vite's own static server (`vite preview`). */
export async function serveApp(port: number): Promise<{ url: string; close(): Promise<void> }> {
  if (!existsSync(CHAT_DIST)) throw Object.assign(new Error('the chat app is not built: run `npm run build` (npm start does it first)'), { code: 'ERR_NOT_BUILT' })
  const before = { term: process.listeners('SIGTERM'), end: process.stdin.listeners('end') }
  const server = await preview({ configFile: CHAT_CONFIG, logLevel: 'warn', preview: { host: '127.0.0.1', port, strictPort: true, open: false } })
  // Vite's preview exits the process on SIGTERM and at the end of stdin, before the launcher
  // has stopped its devices (they were left running, exit 143): the launcher stops it itself
  for (const l of process.listeners('SIGTERM')) if (!before.term.includes(l)) process.off('SIGTERM', l)
  for (const l of process.stdin.listeners('end')) if (!before.end.includes(l)) process.stdin.off('end', l as () => void)
  const address = server.httpServer.address()
  if (address === null || typeof address === 'string') throw new Error('the app server has no TCP address')
  return {
    url: `http://127.0.0.1:${address.port}/`,
    close: async () => {
      await server.close()
    }
  }
}

/**
 * The origins a browser gives the served app's pages: as its URL is printed (127.0.0.1) and as
 * a person may type it (localhost). The devices' API lets both call it (`--http-origin`).
 */
export function appOrigins(appUrl: string): string[] {
  const url = new URL(appUrl)
  return [url.origin, `${url.protocol}//localhost:${url.port}`]
}
