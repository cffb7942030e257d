import type { DeviceInfo, Engine } from '@tandem/engine'
import { say, when } from './say.js'
import { relayConnected, until } from './until.js'

/** How long a one-shot command waits for its relay: long enough for a connection on a slow network, short enough to not look hung. */
const RELAY_WAIT_MS = 10_000

/**
 * `tandem-device devices`: the account's devices as a table. When the device has a relay,
 * it first waits (bounded) for the relay's report of when each device was last served, so
 * "last active" is the relay's word rather than a dash.
 */
export async function listDevices(engine: Engine): Promise<void> {
  if (await relayConnected(engine, RELAY_WAIT_MS)) await until(engine, () => engine.listDevices().every(d => d.lastActiveAt !== null), 2_000)
  say(formatDevices(engine.listDevices()))
}

/** Columns padded to their widest cell; the peer id last, since it is long and what `revoke` takes. */
export function formatDevices(devices: readonly DeviceInfo[]): string {
  const rows = [
    ['NAME', 'PLATFORM', 'LINKED', 'LAST ACTIVE', 'PEER ID'],
    ...devices.map(d => [d.name || '(no name)', d.platform || '—', when(d.linkedAt), d.thisDevice ? 'this device' : when(d.lastActiveAt), d.peerId])
  ]
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map(r => r[i]!.length)))
  return rows.map(r => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')).join('\n')
}

/**
 * `tandem-device revoke <peerId>`: signs the link that drops the device, then waits
 * (bounded) for a relay to be connected so the link reaches it before this process stops
 * (the relay refuses the revoked device from then on, and tells it).
 */
export async function revokeDevice(engine: Engine, peerId: string): Promise<void> {
  const device = engine.listDevices().find(d => d.peerId === peerId)
  await engine.revokeDevice(peerId) // anything not listed now is ERR_INVALID_ARGUMENT, before a link is signed
  say(`Revoked "${device?.name}" (${peerId}): it can no longer read or write this account, and erases it when it learns.`)
  if (engine.relayStatus().length === 0) say('This device has no relay: the revocation reaches the other devices when they next meet this one.')
  else if (!(await relayConnected(engine, RELAY_WAIT_MS))) say('No relay answered yet: the revocation goes to the relay when this device next reaches it.')
}
