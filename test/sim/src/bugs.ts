import { Engine, type EngineEvent, type Message } from '@tandem/engine'
import { KeyRing, MessageAnnotations, ReceiptBook, RelayState, segmentOfMessage } from '@tandem/engine/internal'
import { chainDeviceStatus, type ChainLink, type ChainState, type Draft } from '@tandem/protocol'
import { AccessControl, HistoryStore, StoreService } from '@tandem/relay'
import type { Rng } from './rng.js'

/**
 * Known bugs the simulator must catch (its teeth): each patches the real code
 * for the length of one run and is undone afterwards.
 */
export type Bug =
  | 'relay-drops-acked-append'
  | 'outbox-forgets-on-restart'
  | 'sent-merge-takes-minimum'
  | 'acked-state-lost-on-restart'
  | 'list-cached-until-local-send'
  | 'list-cached-by-position'
  | 'damaged-log-entry-unnoted'
  | 'relay-keeps-revoked-session'
  | 'relay-revocation-ignored'
  | 'relay-takes-stale-epoch'
  | 'relay-epoch-checked-at-first-chunk'
  | 'revoked-gets-new-key'
  | 'receipt-watermark-takes-minimum'
  | 'edit-index-stale'
  | 'relay-tells-no-removal'
  | 'whole-chat-skips-newest-segment'

/**
 * Each bug and the invariant(s) that must report it first (the start of its violation): a bug
 * the run's end would also catch must still be caught where it happens. (A lost outbox shows
 * at the end only, as a device that never gets its messages sent or a new device the relay
 * cannot give them to, whichever the seed meets first.)
 */
export const CAUGHT_BY: Readonly<Record<Bug, readonly string[]>> = {
  'relay-drops-acked-append': ['relay durability'],
  'outbox-forgets-on-restart': ['liveness', 'relay completeness'],
  // (a saved watermark lower than the one shown: after a restart the message reads "stored" again, which the
  // monotonicity step invariant sees where it happens; since the device chain, the first seed that catches it does so)
  'sent-merge-takes-minimum': ['liveness', 'monotonicity'],
  'acked-state-lost-on-restart': ['monotonicity'],
  'list-cached-until-local-send': ['agreement'],
  'list-cached-by-position': ['altered'],
  'damaged-log-entry-unnoted': ['damage unreported'],
  'relay-keeps-revoked-session': ['revoked served'],
  // (since a relay refuses uploads sealed in a generation older than the account's newest, a device that
  // never adopts the relay's revoking link never writes in the generation it starts: its uploads wait
  // for good, which liveness sees; a seed where it reaches the end of healing first shows it in device lists)
  'relay-revocation-ignored': ['device lists', 'liveness'],
  'relay-takes-stale-epoch': ['revoked opens'],
  'relay-epoch-checked-at-first-chunk': ['revoked opens'],
  'revoked-gets-new-key': ['revoked opens'],
  // (an account's watermark is the earliest of its devices' marks: a device that writes its first mark behind another's pulls it back)
  'receipt-watermark-takes-minimum': ['monotonicity'],
  // (a device that read a message's edits once never sees a later edit: devices with the same doc show different texts)
  'edit-index-stale': ['agreement', 'chat convergence', 'liveness'],
  // (a removed account's devices never hear of it: they hold themselves members, and what they wrote after it waits for ever)
  'relay-tells-no-removal': ['liveness'],
  // (reading a chat whole stops a segment short, as a loop bound off by one would: an export lacks the newest messages)
  'whole-chat-skips-newest-segment': ['whole chat']
}

export const BUGS = Object.keys(CAUGHT_BY) as readonly Bug[]

/** Bugs of chats between accounts: their teeth run the people workload (and the device chain's); the others' run without it. */
export const PEOPLE_BUGS: ReadonlySet<Bug> = new Set(['receipt-watermark-takes-minimum', 'edit-index-stale', 'relay-tells-no-removal'])

/** Bugs of the device chain: their teeth run the device-chain workload; the others' run without it, as before it. */
export const CHAIN_BUGS: ReadonlySet<Bug> = new Set([
  'relay-keeps-revoked-session',
  'relay-revocation-ignored',
  'relay-takes-stale-epoch',
  'relay-epoch-checked-at-first-chunk',
  'revoked-gets-new-key'
])

type Patchable = Record<string, unknown>

export function injectBug(bug: Bug, rng: Rng): () => void {
  const relayState = { RelayState: RelayState as unknown as { prototype: Patchable } }
  const patch = (proto: Patchable, name: string, make: (orig: (...a: unknown[]) => unknown) => (...a: unknown[]) => unknown): (() => void) => {
    const orig = proto[name] as (...a: unknown[]) => unknown
    proto[name] = make(orig)
    return () => {
      proto[name] = orig
    }
  }
  switch (bug) {
    case 'relay-drops-acked-append':
      // acknowledges one append in a hundred, well-formed, and loses it: its parts are dropped
      // and nothing is written (it used to answer without tail sizes, so the ack failed to
      // encode and the teeth caught a stuck upload instead of a lost one)
      return patch(
        HistoryStore.prototype as unknown as Patchable,
        'commitAppend',
        orig =>
          async function (this: HistoryStore, ...args: unknown[]) {
            if (rng.chance(0.01)) {
              const u = args[0] as { docId: string; abort(): Promise<void> }
              const meta = await this.meta(u.docId)
              await u.abort()
              return { seq: (meta?.head ?? 0) + 1, duplicate: false, sinceSnapshot: 0, tailBytes: 0, snapshotBytes: 0 }
            }
            return await orig.apply(this, args)
          }
      )
    case 'outbox-forgets-on-restart':
      return patch(
        relayState.RelayState.prototype,
        'load',
        orig =>
          async function (this: unknown, ...args: unknown[]) {
            await orig.apply(this, args)
            return []
          }
      )
    case 'sent-merge-takes-minimum':
      // the "sent" watermark merges by minimum instead of maximum
      return patch(
        relayState.RelayState.prototype,
        'save',
        orig =>
          async function (this: { doc(id: string): { acked: Map<number, number>; ackedDurable: Map<number, number> } }, ...args: unknown[]) {
            const st = this.doc(args[0] as string)
            const before = new Map(st.ackedDurable)
            await orig.apply(this, args)
            for (const [client, clock] of before) {
              if ((st.ackedDurable.get(client) ?? 0) > clock) st.ackedDurable.set(client, before.size === 0 ? clock : Math.min(clock, st.ackedDurable.get(client)!))
            }
          }
      )
    case 'acked-state-lost-on-restart':
      // the saved relay state comes back without what the relay acknowledged (a decoder that
      // falls back to empty vectors): after a restart the device shows its sent messages as
      // stored, uploads them again and shows them sent once the relay acks them. It heals
      // before the run ends: only a check during the run sees the status go back
      return patch(
        relayState.RelayState.prototype,
        'load',
        orig =>
          async function (this: { docs: Map<string, { uploaded: Map<number, number>; acked: Map<number, number>; ackedDurable: Map<number, number> }> }, ...args: unknown[]) {
            const outbox = await orig.apply(this, args)
            for (const st of this.docs.values()) {
              st.uploaded = new Map()
              st.acked = new Map()
              st.ackedDurable = new Map()
            }
            return outbox
          }
      )
    case 'list-cached-by-position': {
      // listMessages keeps the message objects it built per position in the list and reuses
      // one whose id changed, updating only the id and status (a render cache keyed by index):
      // a message that lands before others in display order shows the text of the one it displaced
      const cache = new WeakMap<Engine, Map<string, Message[]>>()
      return patch(
        Engine.prototype as unknown as Patchable,
        'listMessages',
        orig =>
          function (this: Engine, ...args: unknown[]) {
            const chatId = args[0] as string
            const list = orig.apply(this, args) as Message[]
            let chats = cache.get(this)
            if (chats === undefined) {
              chats = new Map()
              cache.set(this, chats)
            }
            const before = chats.get(chatId) ?? []
            const shown = list.map((m, i) => (before[i] !== undefined && before[i]!.id !== m.id ? { ...before[i]!, id: m.id, status: m.status } : m))
            chats.set(chatId, shown)
            return shown
          }
      )
    }
    case 'damaged-log-entry-unnoted': {
      // a log entry that fails its checksum is skipped (and deleted) without a note: nothing
      // reports it, and the doc is never fetched again. The store's damage list is reached
      // through the first engine opened (its class is not exported); restarts meet the bug
      type Damage = { note(record: { key: string }): void }
      let undoNote: (() => void) | null = null
      const undoOpen = patch(
        Engine as unknown as Patchable,
        'open',
        orig =>
          async function (this: unknown, ...args: unknown[]) {
            const engine = (await orig.apply(this, args)) as Engine
            undoNote ??= patch(
              Object.getPrototypeOf((engine as unknown as { store: { damage: Damage } }).store.damage) as Patchable,
              'note',
              note =>
                function (this: Damage, ...a: unknown[]) {
                  if ((a[0] as { key: string }).key.startsWith('log!')) return
                  note.apply(this, a)
                }
            )
            return engine
          }
      )
      return () => {
        undoOpen()
        undoNote?.()
      }
    }
    case 'whole-chat-skips-newest-segment': {
      // allMessages reads every segment but the newest
      return patch(
        Engine.prototype as unknown as Patchable,
        'allMessages',
        orig =>
          async function (this: Engine, ...args: unknown[]) {
            const all = (await orig.apply(this, args)) as Message[]
            const newest = Math.max(0, ...all.map(m => segmentOfMessage(m.id)))
            return all.filter(m => segmentOfMessage(m.id) !== newest)
          }
      )
    }
    case 'relay-tells-no-removal': {
      // the relay sends a record only to the accounts it names, as before removals were told: the
      // accounts it drops get nothing, live or at their next session
      const undoStored = patch(
        StoreService.prototype as unknown as Patchable,
        'membershipStored',
        orig =>
          function (this: StoreService, ...args: unknown[]) {
            return orig.call(this, args[0])
          }
      )
      const undoRemovals = patch(AccessControl.prototype as unknown as Patchable, 'removalsOf', () => async () => [])
      return () => {
        undoStored()
        undoRemovals()
      }
    }
    case 'relay-keeps-revoked-session': {
      // when an account's chain grows, the relay leaves the sessions of the devices it now revokes
      // alone: not told, not closed, their subscriptions and live blobs still running (it still
      // refuses them at their next hello)
      type Service = { access: { cachedState(account: string): Parameters<typeof chainDeviceStatus>[0] | null | undefined }; sessions: Set<{ account: string; peerId: string }> }
      return patch(
        StoreService.prototype as unknown as Patchable,
        'chainGrew',
        orig =>
          function (this: Service, ...args: unknown[]) {
            const account = args[0] as string
            const state = this.access.cachedState(account)
            const hidden = [...this.sessions].filter(s => s.account === account && state != null && chainDeviceStatus(state, s.peerId) === 'revoked')
            for (const s of hidden) this.sessions.delete(s)
            try {
              return orig.apply(this, args)
            } finally {
              for (const s of hidden) this.sessions.add(s)
            }
          }
      )
    }
    case 'relay-revocation-ignored': {
      // a device does not adopt a link a relay confirms when it revokes a device: it drops every
      // such link from a relay (the account's other devices may still hand it over, unconfirmed).
      // The keeper is reached through the first account created in the run (its class is not exported)
      type Keeper = { receive(links: ChainLink[], confirmed: boolean): Promise<unknown> }
      let undoReceive: (() => void) | null = null
      const undoCreate = patch(
        Engine.prototype as unknown as Patchable,
        'createAccount',
        orig =>
          async function (this: Engine, ...args: unknown[]) {
            const created = await orig.apply(this, args)
            const keeper = (this as unknown as { account: { chain(): Keeper } }).account.chain()
            undoReceive ??= patch(
              Object.getPrototypeOf(keeper) as Patchable,
              'receive',
              receive =>
                function (this: Keeper, ...a: unknown[]) {
                  const [links, confirmed] = a as [ChainLink[], boolean]
                  return receive.call(this, confirmed ? links.filter(l => l.revoked.length === 0) : links, confirmed)
                }
            )
            return created
          }
      )
      return () => {
        undoCreate()
        undoReceive?.()
      }
    }
    case 'relay-takes-stale-epoch':
      // the relay stores an upload sealed in a key generation older than the account's newest (it
      // no longer reads the blob's public epoch): a device that sealed an entry before it learned
      // of a revocation (in its outbox while it was away, or in flight) uploads it as it is, and
      // the revoked device's old keys open it
      return patch(AccessControl.prototype as unknown as Patchable, 'epochFloor', () => async () => 0)
    case 'relay-epoch-checked-at-first-chunk':
      // the relay checks an upload's epoch only at its first chunk (as in cd45f24), not again at its
      // last with the chains held still until its commit: a revocation accepted between the two
      // lets an upload sealed in the old generation be appended after it
      return patch(AccessControl.prototype as unknown as Patchable, 'holdEpoch', () => async () => () => {})
    case 'revoked-gets-new-key':
      // the generation a revoking link starts is sealed to the devices it revokes as well (its
      // recipients taken from the list before the revocation): the relay cannot tell (it is
      // blind), and every device's next writes open with the revoked device's key
      return patch(
        KeyRing.prototype as unknown as Patchable,
        'extensionsFor',
        orig =>
          function (this: KeyRing, ...args: unknown[]) {
            const [head, draft] = args as [ChainState, Draft]
            const devices = new Map(draft.devices)
            for (const hex of draft.revoked.keys()) {
              const listed = head.devices.get(hex)
              if (listed !== undefined) devices.set(hex, listed)
            }
            return orig.call(this, head, { ...draft, devices })
          }
      )
    case 'list-cached-until-local-send': {
      // listMessages keeps per chat the messages it listed until this device sends in that chat
      // (a cache only local writes invalidate): what the account's other devices sent since is
      // held, synced and stored here, and missing from the list
      const cache = new WeakMap<Engine, Map<string, Set<string>>>()
      return patch(
        Engine.prototype as unknown as Patchable,
        'listMessages',
        orig =>
          function (this: Engine, ...args: unknown[]) {
            const chatId = args[0] as string
            const list = orig.apply(this, args) as Message[]
            let chats = cache.get(this)
            if (chats === undefined) {
              const own = new Map<string, Set<string>>()
              cache.set(this, own)
              this.subscribe((e: EngineEvent) => {
                if (e.type === 'message' && e.origin === 'local') own.delete(e.chatId)
              })
              chats = own
            }
            const ids = chats.get(chatId)
            if (ids === undefined) {
              chats.set(chatId, new Set(list.map(m => m.id)))
              return list
            }
            return list.filter(m => ids.has(m.id))
          }
      )
    }
    case 'receipt-watermark-takes-minimum':
      // an account's watermark merges its devices' marks by minimum instead of maximum
      return patch(
        ReceiptBook.prototype as unknown as Patchable,
        'watermark',
        () =>
          function (this: ReceiptBook, ...args: unknown[]) {
            const [kind, account] = args as ['delivered' | 'read', string]
            type Mark = { wall: number; counter: number; id: string }
            const earlier = (a: Mark, b: Mark): boolean => a.wall < b.wall || (a.wall === b.wall && (a.counter < b.counter || (a.counter === b.counter && a.id < b.id)))
            let mark: Mark | null = null
            for (const key of this.marks.keys()) {
              const [k, acc, device] = key.split(' ')
              if (acc !== account || device === undefined || (kind === 'read' && k !== 'r')) continue
              const own = this.ownMark(k === 'r' ? 'read' : 'delivered', account, device)
              if (own !== null && (mark === null || earlier(own, mark))) mark = own
            }
            return mark
          }
      )
    case 'edit-index-stale':
      // the latest edit per message, once indexed, is not updated when another edit arrives
      return patch(MessageAnnotations.prototype as unknown as Patchable, 'reindexEdits', () => () => {})
  }
}
