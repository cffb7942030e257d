import type { DeviceInfo } from '@tandem/engine'
import { formatLinkCodeText, parseLinkCodeText } from '@tandem/protocol'
import { expect } from 'vitest'
import type { DeviceEvent, DeviceProcess } from '../helpers/device-process.js'

/** A row of the `devices` control command: the engine's DeviceInfo, as JSON. */
export type DeviceRow = DeviceInfo

export interface Info {
  peerId: string
  accountId: string | null
  peers: string[]
  relays: Array<{ relay: string; connected: boolean }>
}

export interface ShownCode {
  text: string
  expiresAt: number
}

/** The next `name` event after the `from`-th event the device has reported (events seen before do not count), bounded. */
export function nextEvent(d: DeviceProcess, name: string, from: number, timeoutMs = 30_000): Promise<DeviceEvent> {
  return d.waitForEvent(e => e.event === name && d.events.indexOf(e) >= from, timeoutMs)
}

/** A command expected to fail: its typed error code (a success fails the test). */
export async function failure(p: Promise<unknown>): Promise<string> {
  try {
    const result = await p
    throw Object.assign(new Error(`expected a typed error, got ${JSON.stringify(result)}`), { code: 'NO_ERROR' })
  } catch (err) {
    return (err as { code?: string }).code ?? String(err)
  }
}

/**
 * Links `fresh` (no account) to `existing`'s account by code, the way a person does: the new
 * device shows the code, the existing one reads it, both show six digits, the test compares
 * them and confirms. Returns the digits and how long it took.
 */
export async function linkByCode(fresh: DeviceProcess, existing: DeviceProcess): Promise<{ digits: string; ms: number; code: string }> {
  const t0 = performance.now()
  const from = { fresh: fresh.events.length, existing: existing.events.length }
  const code = await fresh.request<ShownCode>('show-link-code')
  const linked = existing.request<{ peerId: string; name: string }>('link-device', { code: code.text, confirm: 'ask' }, 60_000)
  linked.catch(() => {}) // (awaited below; a failure before then must not be an unhandled rejection)
  const [asked, shown] = await Promise.all([nextEvent(existing, 'link-confirm', from.existing), nextEvent(fresh, 'link-confirmation', from.fresh)])
  expect(asked.digits).toMatch(/^\d{6}$/)
  expect(asked.digits).toBe(shown.digits)
  await existing.request('confirm-link', { accept: true })
  const [result] = await Promise.all([linked, nextEvent(fresh, 'linked', from.fresh)])
  expect(result.peerId).toBe((await fresh.request<Info>('info')).peerId)
  return { digits: asked.digits as string, ms: performance.now() - t0, code: code.text }
}

/** The same code with another secret and a valid checksum: what a guesser who saw the peer id and addresses would type. */
export function withWrongSecret(text: string): string {
  const code = parseLinkCodeText(text)
  const secret = code.secret.slice()
  secret[0] = secret[0]! ^ 0xff
  return formatLinkCodeText({ ...code, secret })
}

/** What "nothing linked" means, read from both processes: the existing device's list as before, the new one without an account. */
export async function expectNothingLinked(existing: DeviceProcess, fresh: DeviceProcess, before: DeviceRow[]): Promise<void> {
  const after = await existing.request<DeviceRow[]>('devices')
  expect(after.map(d => d.peerId)).toEqual(before.map(d => d.peerId))
  expect((await fresh.request<Info>('info')).accountId).toBeNull()
  expect((await failure(fresh.request('devices'))) as string).toBe('ERR_ENGINE_STATE')
}
