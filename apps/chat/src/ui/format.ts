import type { MessageStatus } from '@tandem/engine'
import type { DeviceApi } from '../api/device-api.js'

// Made once: `toLocaleTimeString(locales, options)` builds a new formatter at each call, and
// bubbles' times were the page's largest JavaScript cost while scrolling back (164 ms of a CPU
// profile of 20 pages of 50, next to ~20 ms for Preact's whole diff).
const TIME_OF_DAY = new Intl.DateTimeFormat([], { hour: '2-digit', minute: '2-digit' })
const DATE_AND_TIME = new Intl.DateTimeFormat([], { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' })

/** A time of day today, else a date and time. */
export function shortTime(ms: number, now = Date.now()): string {
  const d = new Date(ms)
  const sameDay = new Date(now).toDateString() === d.toDateString()
  return sameDay ? TIME_OF_DAY.format(d) : DATE_AND_TIME.format(d)
}

/** "5 minutes ago"-style, for last seen and last active. */
export function ago(ms: number, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - ms) / 1000))
  if (s < 60) return 'just now'
  const m = Math.round(s / 60)
  if (m < 60) return `${m} min ago`
  const h = Math.round(m / 60)
  if (h < 24) return `${h} h ago`
  return new Date(ms).toLocaleDateString()
}

/** A message's tick and what a screen reader says for it. */
export const TICKS: Record<MessageStatus, { mark: string; label: string }> = {
  pending: { mark: '🕓', label: 'waiting to be sent' },
  sent: { mark: '✓', label: 'sent' },
  delivered: { mark: '✓✓', label: 'delivered' },
  read: { mark: '✓✓', label: 'read' },
  // (removed from the chat before a relay took it: it stays here, never sent)
  failed: { mark: '⚠', label: 'not sent: you are no longer a member' }
}

/** Account ids to names: this account's profile, contacts, members; a short id when none is known. */
export type Names = (accountId: string) => string

export async function readNames(api: DeviceApi, accountId: string | null): Promise<Map<string, string>> {
  const names = new Map<string, string>()
  for (const c of await api.listContacts()) if (c.name !== '') names.set(c.accountId, c.name)
  if (accountId !== null) {
    const info = await api.info()
    names.set(accountId, info.account?.name ?? 'me')
  }
  return names
}

export const nameOf =
  (names: Map<string, string> | undefined, me: string | null): Names =>
  id =>
    id === me ? 'You' : (names?.get(id) ?? `…${id.slice(-6)}`)

/** Saves `text` as a file the browser downloads. */
export function download(name: string, text: string, type: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }))
  const a = document.createElement('a')
  a.href = url
  a.download = name
  a.click()
  setTimeout(() => URL.revokeObjectURL(url), 0)
}
