import { Awareness, applyAwarenessUpdate, encodeAwarenessUpdate, removeAwarenessStates } from 'y-protocols/awareness'
import * as Y from 'yjs'

/** What a device says of itself in a chat's awareness (JSON, as y-protocols sends it): its account, its peer id, whether it is typing. */
interface DeviceState {
  a: string
  d: string
  t: boolean
}

/** A device as a chat's presence shows it. */
export interface PresenceEntry {
  account: string
  device: string
  /** It shows the chat now (its state is live: renewed within the timeout). */
  online: boolean
  typing: boolean
  /** When this device last heard from it (this device's clock), or when it went offline. */
  lastSeen: number
}

/** What a chat's awareness reports: a device started or stopped typing, came or went. */
export interface AwarenessListener {
  typing(account: string, device: string, typing: boolean): void
  presence(entry: PresenceEntry): void
}

/**
 * One chat's y-protocols awareness: this device's state in it and the other devices'.
 * y-protocols' own timeouts run on the real clock (`setInterval`, `Date.now`), so its interval
 * is cleared at once and the timeouts are ours, on the injected clock: `tick` renews this
 * device's state and drops every other device not heard from within `timeoutMs`.
 */
export class ChatAwareness {
  readonly awareness: Awareness
  /** The devices heard from, by awareness client id (a device that restarts comes back as another client). */
  private readonly clients = new Map<number, PresenceEntry>()
  private lastSent = 0

  constructor(
    clientId: number,
    private readonly now: () => number,
    /** Sends an awareness update of this device's state to the chat's other devices. */
    private readonly send: (update: Uint8Array) => void,
    private readonly listener: AwarenessListener
  ) {
    const stand = new Y.Doc()
    stand.clientID = clientId
    this.awareness = new Awareness(stand)
    clearInterval((this.awareness as unknown as { _checkInterval: ReturnType<typeof setInterval> })._checkInterval)
    this.awareness.setLocalState(null) // (y-protocols starts with an empty state: nothing is said until there is something to say)
    this.awareness.on('update', ({ added, updated, removed }: Changes, origin: unknown) => {
      if (origin === 'local') {
        this.lastSent = this.now()
        this.send(encodeAwarenessUpdate(this.awareness, [this.awareness.clientID]))
        return
      }
      for (const id of [...added, ...updated]) this.heard(id, typeof origin === 'string' ? origin : null)
      for (const id of removed) this.gone(id, origin === 'timeout')
    })
  }

  /** This device's state: null says nothing (it neither shows the chat nor types). */
  setLocal(state: DeviceState | null): void {
    const before = this.awareness.getLocalState() as DeviceState | null
    if (before === null && state === null) return
    if (before !== null && state !== null && before.t === state.t && before.a === state.a && before.d === state.d) return
    this.awareness.setLocalState(state)
  }

  /** An awareness update from device `from` (its sealed message opened). */
  apply(update: Uint8Array, from: string): void {
    applyAwarenessUpdate(this.awareness, update, from)
  }

  /** Renews this device's state every `renewMs` and drops devices silent for `timeoutMs`; true while anything is live here. */
  tick(renewMs: number, timeoutMs: number): boolean {
    const now = this.now()
    const local = this.awareness.getLocalState()
    if (local !== null && now - this.lastSent >= renewMs) this.awareness.setLocalState(local) // (the same state, a newer clock)
    const silent: number[] = []
    for (const [id, entry] of this.clients) if (entry.online && now - entry.lastSeen >= timeoutMs) silent.push(id)
    if (silent.length > 0) removeAwarenessStates(this.awareness, silent, 'timeout')
    return local !== null || [...this.clients.values()].some(e => e.online)
  }

  /** Every device heard from in this chat: online ones and when the others were last seen. */
  entries(): PresenceEntry[] {
    const byDevice = new Map<string, PresenceEntry>()
    for (const e of this.clients.values()) {
      const known = byDevice.get(e.device)
      if (known === undefined || (e.online && !known.online) || (e.online === known.online && e.lastSeen > known.lastSeen)) byDevice.set(e.device, { ...e })
    }
    return [...byDevice.values()]
  }

  /** Says nothing more (the state is withdrawn, so the others see this device leave at once), and stops. */
  destroy(): void {
    this.setLocal(null)
    this.awareness.destroy()
  }

  private heard(id: number, from: string | null): void {
    if (id === this.awareness.clientID) return
    const state = this.awareness.getStates().get(id) as Partial<DeviceState> | undefined
    // a state is a device speaking for itself: one naming another device than the one that sent it counts for nothing
    if (state === undefined || typeof state.a !== 'string' || typeof state.d !== 'string' || (from !== null && state.d !== from)) return
    const before = this.clients.get(id)
    const entry: PresenceEntry = { account: state.a, device: state.d, online: true, typing: state.t === true, lastSeen: this.now() }
    this.clients.set(id, entry)
    if (before === undefined || !before.online) this.listener.presence({ ...entry })
    if ((before?.typing ?? false) !== entry.typing) this.listener.typing(entry.account, entry.device, entry.typing)
  }

  /** A device left (it said so) or went silent (`timedOut`: last seen when last heard). */
  private gone(id: number, timedOut: boolean): void {
    const entry = this.clients.get(id)
    if (entry === undefined || !entry.online) return
    entry.online = false
    if (!timedOut) entry.lastSeen = this.now()
    if (entry.typing) {
      entry.typing = false
      this.listener.typing(entry.account, entry.device, false)
    }
    this.listener.presence({ ...entry })
  }
}

interface Changes {
  added: number[]
  updated: number[]
  removed: number[]
}
