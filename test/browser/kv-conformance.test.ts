import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { kvContractCases } from '@tandem/storage/testing'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fileURLToPath } from 'node:url'
import { launchChromium, pageAt, servePage } from '@tandem/bench/chromium'

// The KeyValueStore contract (packages/storage/src/testing/kv-contract.ts) on browser-level,
// in real Chromium: the store browser devices keep everything in. (memory-level and
// classic-level run it in packages/storage/test/kv-conformance.test.ts.)

interface Result {
  name: string
  ok: boolean
  error?: string
}
let browser: Browser
let outDir: string
const results = new Map<string, Result>()

beforeAll(async () => {
  outDir = await mkdtemp(join(tmpdir(), 'tandem-kv-page-'))
  const page = await servePage(pageAt(fileURLToPath(new URL('./kv-page/', import.meta.url))), outDir)
  try {
    browser = await launchChromium()
    const tab = await browser.newPage()
    await tab.goto(page.url)
    await tab.waitForFunction(() => 'kvResults' in window, undefined, { timeout: 60_000 })
    for (const r of await tab.evaluate(() => (window as unknown as { kvResults: Result[] }).kvResults)) results.set(r.name, r)
  } finally {
    await page.close()
  }
}, 90_000)

afterAll(async () => {
  await browser?.close()
  if (outDir !== undefined) await rm(outDir, { recursive: true, force: true })
})

describe('browser-level in Chromium', () => {
  it.each(kvContractCases.map(c => c.name))('%s', name => {
    const result = results.get(name)
    expect(result, `the page ran no case named "${name}"`).toBeDefined()
    expect(result!.error).toBeUndefined()
    expect(result!.ok).toBe(true)
  })
})
