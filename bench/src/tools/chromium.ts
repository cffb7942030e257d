import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { chromium, type Browser } from 'playwright-core'
import { build, preview, type PreviewServer } from 'vite'

/** Debian's Chromium (a test tool's own browser download fails here); TANDEM_CHROMIUM overrides. */
export const CHROMIUM = process.env.TANDEM_CHROMIUM ?? '/usr/bin/chromium'

/**
 * Real headless Chromium. Missing, it fails with how to install it — never a skip: the
 * browser device is part of what `npm test` proves. `extraArgs`: more Chromium switches (a
 * fake camera playing a file, say).
 */
export async function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium is not installed at ${CHROMIUM}: run \`apt-get install -y chromium\` (Debian/Ubuntu; .ci/run does), or set TANDEM_CHROMIUM to its path`)
  }
  return await chromium.launch({
    executablePath: CHROMIUM,
    // as root without a sandbox; no GPU; no background traffic to Google's hosts (refused here)
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic', ...extraArgs]
  })
}

// Real Chromium for the browser tests (test/browser) and the browser benchmarks: one launcher,
// one page builder.

/** The demo chat app's Vite config (this file runs from bench/dist/tools). */
export const CHAT_APP = { configFile: fileURLToPath(new URL('../../../apps/chat/vite.config.ts', import.meta.url)) }

/** A page folder (an `index.html` and its script), bundled as Vite would any app. */
export const pageAt = (root: string): { configFile: false; root: string } => ({ configFile: false, root })

/**
 * A page, built now from its sources into `outDir` (so a test never runs a stale bundle)
 * and served on 127.0.0.1: a loopback page may dial the relay's loopback `ws://`.
 */
export async function servePage(page: { configFile: string | false; root?: string }, outDir: string): Promise<{ url: string; close(): Promise<void> }> {
  await build({ ...page, logLevel: 'warn', build: { outDir, emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 2048 } })
  const server: PreviewServer = await preview({ ...page, logLevel: 'warn', build: { outDir }, preview: { host: '127.0.0.1', port: 0, strictPort: false, open: false } })
  const address = server.httpServer.address()
  if (address === null || typeof address === 'string') throw new Error('the page server has no TCP address')
  return {
    url: `http://127.0.0.1:${address.port}/`,
    close: async () => {
      await server.close()
    }
  }
}
