import { useEffect, useState } from 'preact/hooks'
import type { DeviceEvent, DeviceSummary } from '../api/device-api.js'
import { ago } from './format.js'
import { useDeviceEvents, useQuery } from './hooks.js'

const affectsStatus = (e: DeviceEvent): boolean => e.type === 'relay' || e.type === 'peer' || e.type === 'status' || (e.type === 'progress' && e.caughtUp)

/** How often the status line reads the connection again without an event. */
const STATUS_POLL_MS = 2_000

interface Connection {
  relays: Array<{ relay: string; connected: boolean; pendingUploads: number }>
  peers: string[]
}

/** What the device says of its connections now (a remote device without `relays` in `info`: from `relay` events). */
function useConnection(info: DeviceSummary): { connection: Connection | undefined; progress: { done: number; total: number } | null; lastSynced: number | null } {
  const [heard, setHeard] = useState<Map<string, boolean>>(new Map())
  const [progress, setProgress] = useState<{ done: number; total: number } | null>(null)
  const [lastSynced, setLastSynced] = useState<number | null>(null)
  const [connection, refresh] = useQuery(
    async api => {
      const now = await api.info()
      const peers = await api.connectedPeers()
      return { relays: now.relays ?? [...heard].map(([relay, connected]) => ({ relay, connected, pendingUploads: 0 })), peers }
    },
    affectsStatus,
    [info.peerId, heard]
  )
  // uploads drain with no event of their own (a receipt, a snapshot): look again now and then
  useEffect(() => {
    const t = setInterval(refresh, STATUS_POLL_MS)
    return () => clearInterval(t)
  }, [])
  useDeviceEvents(e => {
    if (e.type === 'relay' && info.relays === undefined) setHeard(h => new Map(h).set(e.relay, e.connected))
    if (e.type === 'progress') {
      setProgress(e.caughtUp ? null : { done: e.entriesDone, total: e.entriesTotal })
      if (e.caughtUp) setLastSynced(Date.now())
    }
  })
  return { connection, progress, lastSynced }
}

/** The header's line: this device, its relay, messages waiting to go, and catching up. */
export function StatusBar({ info, onOpen }: { info: DeviceSummary; onOpen(): void }) {
  const { connection, progress } = useConnection(info)
  const [away, setAway] = useState(false)
  useDeviceEvents(e => {
    if (e.type === 'device-connection') setAway(!e.connected)
  })
  const relay = connection?.relays[0]
  const waiting = connection?.relays.reduce((n, r) => n + r.pendingUploads, 0) ?? 0
  const relayText = relay === undefined ? 'no relay yet' : relay.connected ? 'relay connected' : 'relay offline'
  return (
    <div class="status-bar">
      <button
        type="button"
        class="link"
        id="status"
        data-testid="status"
        data-peer-id={info.peerId}
        data-relay={relay?.connected === true ? 'connected' : 'offline'}
        data-waiting={waiting}
        data-device={away ? 'unreachable' : 'reachable'}
        aria-live="polite"
        onClick={onOpen}
        disabled={info.accountId === null}
      >
        {info.account?.name ?? 'New device'} · {away ? 'device unreachable' : relayText}
        {waiting > 0 ? ` · ${waiting} waiting to send` : ''}
      </button>
      {progress !== null && (
        <span class="sync">
          <label for="sync-progress">Syncing</label> <progress id="sync-progress" data-testid="sync-progress" max={Math.max(1, progress.total)} value={progress.done} />
        </span>
      )}
    </div>
  )
}

/** Connection status in full: relays, devices connected directly, waiting uploads, last caught up. */
export function StatusScreen({ info }: { info: DeviceSummary }) {
  const { connection, progress, lastSynced } = useConnection(info)
  return (
    <section class="status-screen" aria-labelledby="status-title">
      <h2 id="status-title">Connection</h2>
      <dl>
        <dt>This device</dt>
        <dd>
          <code>{info.peerId}</code>
        </dd>
        <dt>Account</dt>
        <dd>
          <code>{info.accountId}</code>
        </dd>
        <dt>Relays</dt>
        {(connection?.relays ?? []).map(r => (
          <dd key={r.relay} data-testid="relay-status">
            {r.connected ? 'connected' : 'offline'} · {r.pendingUploads} waiting to send · <code>{r.relay}</code>
          </dd>
        ))}
        <dt>Devices connected directly</dt>
        <dd data-testid="peer-count">{connection?.peers.length ?? 0}</dd>
        <dt>Catching up</dt>
        <dd>{progress === null ? 'up to date' : `${progress.done} of ${progress.total}`}</dd>
        <dt>Last synced</dt>
        <dd>{lastSynced === null ? 'not since this page opened' : ago(lastSynced)}</dd>
      </dl>
    </section>
  )
}
