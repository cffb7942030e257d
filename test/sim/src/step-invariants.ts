import type { ChatEntry, Engine, Message } from '@tandem/engine'
import { StoreFrameTag, decodeStoreFrame } from '@tandem/protocol'
import { HistoryStore } from '@tandem/relay'
import type { KeyValueStore } from '@tandem/storage'
import type { Disk } from '@tandem/storage/testing'
import { removedReceived } from './people-invariants.js'
import type { Tracker } from './tracker.js'
import { deletesOf, writesOf } from './watched-store.js'
import { RELAY_ID, type DeviceNode, type World } from './world.js'

/**
 * The invariants the simulator checks after every step (every event it processes: a timer, a
 * frame delivered, a batch reaching a disk, once the work it started has settled), not only at
 * the end of a run:
 *
 * - relay durability: every seq the relay acknowledged is in its history *on disk* (what a
 *   relay restarted now would serve), whether the relay is up or crashed;
 * - monotonicity: no device ever shows a message with a status behind one it showed before,
 *   within a session or across a crash and restart ({@link Tracker.see});
 * - agreement: two devices of an account that are caught up on a doc show the same thing.
 *   "Caught up" is exact: both run, both have the doc open, and both hold the same Yjs state
 *   vector for it (they applied the same inserts). Then they list the same chats (account doc)
 *   or the same messages, with the same ids, texts, senders and clocks, in the same order
 *   (chat doc). Statuses may differ: each follows what that device has on its own disk about
 *   the relay's acks. (A state vector says nothing of deletions: messages and chat entries are
 *   never deleted, so it decides what is listed — but for messages deleted for everyone, which
 *   are not compared (PeopleRecord.uncompared); a chat's title and flags are overwritten, and
 *   are not compared);
 * - unaltered: every message shown is one the workload sent, as it sent it.
 *
 * Each violation names its invariant, the seed, the step and the virtual time, and goes to the
 * tracker's list, so a run reports what went wrong in the order it went wrong.
 */
export class StepInvariants {
  readonly relayAcks: RelayAcks
  /** Per device: what it showed when last read, and what it had seen happen then. */
  private readonly views = new Map<DeviceNode, View>()
  /** Every message as first shown (by which device): it must be shown the same everywhere, always. */
  private readonly shownAs = new Map<string, { device: string; identity: string; text: string | null; described: string }>()
  /** Violations already reported (one per device pair and doc state, not one per step). */
  private readonly reported = new Set<string>()
  private step = 0

  constructor(
    private readonly seed: number,
    private readonly world: World,
    private readonly tracker: Tracker
  ) {
    this.relayAcks = new RelayAcks(world.relay.disk)
    world.net.onSend = (from, frame) => {
      if (from === RELAY_ID && frame[0] === StoreFrameTag.ack) {
        const ack = decodeStoreFrame(frame)
        if (ack.type === 'ack') this.relayAcks.record(ack.docId, ack.seq, this.where())
      }
    }
    tracker.where = () => this.where()
  }

  /** The moment, for a violation: `[seed S, step N, t=…s]`. */
  where(): string {
    return `[seed ${this.seed}, step ${this.step}, t=${(this.world.sched.now / 1000).toFixed(3)}s]`
  }

  /** Runs every invariant on the world as it is after `step` events. */
  async check(step: number): Promise<void> {
    this.step = step
    for (const v of await this.relayAcks.check(this.where())) this.tracker.violations.push(v)
    this.checkDevices()
  }

  /**
   * Reads again each device that may show something new: one that restarted, emitted an event
   * (a message added, a status, the chat list…) or took a batch on its disk since it was last
   * read (what makes a message sent is saved before it shows, and every doc change is saved:
   * a change that adds nothing to show is seen when its batch lands). The others show what
   * they showed, and their pairs were compared then. Reading every device at every step
   * instead cost 4× as much, and in 60 seeds (1.16 M reads) found no device whose messages
   * or statuses had changed without one of these marks.
   */
  private checkDevices(): void {
    const fresh: View[] = []
    const all: View[] = []
    for (const d of this.world.devices) {
      const mark = d.engine === null ? null : `${d.incarnation} ${this.tracker.events.get(d.name) ?? 0} ${writesOf(d.disk)}`
      let view = this.views.get(d)
      if (mark === null) {
        this.views.delete(d)
        continue
      }
      if (view?.mark !== mark) {
        view = viewOf(d, mark, this.tracker.people.uncompared) ?? undefined
        if (view === undefined) {
          this.views.delete(d)
          continue
        }
        this.views.set(d, view)
        fresh.push(view)
        for (const [chatId, messages] of view.messages) for (const m of messages) this.tracker.seeMessage(d.name, chatId, m)
        this.unaltered(view)
        for (const [key, v] of removedReceived(view.node, this.world, view.messages, this.tracker.people, this.where())) this.report(key, v)
      }
      all.push(view)
    }
    // devices of one account compare every doc; of different accounts, the docs of the chats they share
    for (const a of fresh) for (const b of all) if (b !== a && (!fresh.includes(b) || a.node.name < b.node.name)) this.agree(a, b)
  }

  private report(key: string, violation: string): void {
    if (this.reported.has(key)) return
    this.reported.add(key)
    this.tracker.violations.push(violation)
  }

  /**
   * What a device shows is what was written: every message one the workload sent, from the
   * device it sent it from, and the same (id, sender, clock, text) wherever and whenever it is
   * shown; every chat title one the workload gave. (Storage faults damage stored values: a
   * check that missed one would show it here.)
   */
  private unaltered(view: View): void {
    const name = view.node.name
    for (const messages of view.messages.values()) {
      for (const m of messages) {
        // an edited message shows its latest edit: one the workload made of this message, on a device of its author's account
        const text = shownText(m)
        const edit = m.edited ? this.tracker.people.edits.get(m.text) : undefined
        const from = m.edited ? edit?.peerId : this.tracker.issued.get(m.text)
        let first = this.shownAs.get(m.id)
        let why: string | null = null
        if (m.edited && (edit === undefined || edit.messageId !== m.id)) why = `no device made that edit of it`
        else if (m.edited && accountOf(this.world, from!) !== accountOf(this.world, m.device)) why = `it was edited from ${from}, a device of another account`
        else if (from === undefined) why = `no device sent its text`
        else if (!m.edited && from !== m.device) why = `it was sent from ${from}, not ${m.device}`
        else if (first !== undefined && (first.identity !== identity(m) || (!m.edited && first.text !== null && first.text !== m.text)))
          why = `${first.device} showed it as ${first.described}`
        if (first === undefined) {
          first = { device: name, identity: identity(m), text: null, described: described(m) }
          this.shownAs.set(m.id, first)
        }
        // its text as sent, once a device shows it unedited
        if (!m.edited && first.text === null && why === null) first.text = m.text
        if (why !== null && !this.reported.has(`altered ${name} ${m.id} ${text}`)) {
          this.reported.add(`altered ${name} ${m.id} ${text}`)
          this.tracker.violations.push(`altered ${this.where()}: ${name} shows message ${m.id} as ${described(m)}, but ${why}`)
        }
      }
    }
    for (const c of view.chatList) {
      // '' too: a device catching up can hold a chat entry whose title was deleted but not yet
      // its replacement (every blob carries its writer's whole Yjs delete set, so a rename's
      // delete can come before its insert) and lists the chat untitled meanwhile
      if (
        /^(chat \d+\.0|chat by a\d+d\d+|renamed by a\d+d\d+|group by a\d+d\d+|account \d+|name from a\d+d\d+|)$/.test(c.title) ||
        this.reported.has(`altered ${name} ${c.chatId} ${c.title}`)
      )
        continue
      this.reported.add(`altered ${name} ${c.chatId} ${c.title}`)
      this.tracker.violations.push(`altered ${this.where()}: ${name} lists chat ${c.chatId} titled ${JSON.stringify(c.title)}, a title no device gave`)
    }
  }

  /** Two devices of one account: on every doc where both hold the same state, they show the same. */
  private agree(a: View, b: View): void {
    const sameAccount = a.node.account === b.node.account
    for (const [docId, sv] of a.svs) {
      if (b.svs.get(docId) !== sv || (!sameAccount && !docId.startsWith('chat:'))) continue
      // a segment held below a gap (the newer ones still on their way) is in memory but not listed (ChatView.shows)
      const listed = a.lists(docId) && b.lists(docId)
      const why = docId.startsWith('account:') ? chatsDiffer(a, b) : docId.startsWith('chat:') && listed ? messagesDiffer(a, b, docId) : null
      if (why === null) continue
      const key = `${[a.node.name, b.node.name].sort().join('|')}|${docId}|${sv}`
      if (this.reported.has(key)) continue
      this.reported.add(key)
      this.tracker.violations.push(`agreement ${this.where()}: ${a.node.name} and ${b.node.name} hold the same state of ${docId} but ${why}`)
    }
  }
}

/** What one running device showed when it was read. */
class View {
  private chats: string | null = null
  private readonly shown = new Map<string, string>()

  constructor(
    readonly node: DeviceNode,
    /** The device's incarnation, events seen and disk batches when read. */
    readonly mark: string,
    readonly svs: Map<string, string>,
    readonly chatList: ChatEntry[],
    readonly messages: Map<string, Message[]>,
    /** Messages some account deleted for itself (a doc of that account hides them) or deleted for everyone: never compared. */
    private readonly skip: ReadonlySet<string>
  ) {}

  /**
   * The chats listed, by id. (Not their titles and flags: those are overwritten map entries,
   * and two devices with the same state vector may not yet hold the same deletions of the
   * values they replaced; chat entries themselves are never deleted.)
   */
  chatsShown(): string {
    this.chats ??= this.chatList
      .map(c => c.chatId)
      .sort()
      .join(' ')
    return this.chats
  }

  /**
   * Whether the device lists a chat doc's or a segment's messages: a segment only when its chat
   * doc is open and every
   * newer one up to the highest it holds is open too (the engine lists an unbroken run), the
   * chat doc's own (from before segments) when that run reaches segment 1.
   */
  lists(docId: string): boolean {
    const [, chatId, segment] = docId.split(':')
    // (its chat doc still opening: the chat is listed with no messages yet)
    if (!this.svs.has(`chat:${chatId}`)) return false
    const n = segment === undefined ? 1 : Number(segment)
    let top = 0
    for (const id of this.svs.keys()) {
      const [, c, s] = id.split(':')
      if (c === chatId && s !== undefined) top = Math.max(top, Number(s))
    }
    for (let m = n; m <= top; m++) if (!this.svs.has(`chat:${chatId}:${m}`)) return false
    return true
  }

  /** The messages shown of one doc: a segment `chat:<id>:<n>` holds the ids `<n>.…`, a chat doc the ids without a segment. */
  messagesOf(docId: string): Message[] | undefined {
    const [, chatId, segment] = docId.split(':')
    const all = this.messages.get(chatId!)
    if (all === undefined) return undefined
    return all.filter(m => !this.skip.has(m.id) && (segment === undefined ? !m.id.includes('.') : m.id.startsWith(`${segment}.`)))
  }

  /** The messages of a doc as shown, statuses left out. */
  messagesShown(docId: string): string {
    // (keyed by how many are skipped: an account may hide another message since)
    const key = `${docId} ${this.skip.size}`
    let s = this.shown.get(key)
    if (s === undefined) {
      s = (this.messagesOf(docId) ?? []).map(shownText).join('\n')
      this.shown.set(key, s)
    }
    return s
  }
}

/** A message for a violation: its text, sender (peer id's end) and clock. */
const described = (m: Message): string => `"${m.text}" from …${m.device.slice(-6)} at ${m.timestamp.wall}.${m.timestamp.counter}`

const shownText = (m: Message): string => `${identity(m)} ${m.text}`

/** A message's id, sender and clock: what never changes (its text may, by an edit). */
const identity = (m: Message): string => `${m.id} ${m.author} ${m.device} ${m.timestamp.wall}.${m.timestamp.counter}`

/** The sim account of a device, by peer id (-1 when none). */
const accountOf = (world: World, peerId: string): number => world.devices.find(d => d.peerId === peerId)?.account ?? -1

function stateVectorsOf(e: Engine): Map<string, string> {
  const svs = new Map<string, string>()
  for (const [docId, sv] of Object.entries(e.stateVectors())) svs.set(docId, Buffer.from(sv).toString('base64'))
  return svs
}

function viewOf(d: DeviceNode, mark: string, skip: ReadonlySet<string>): View | null {
  const e: Engine | null = d.engine
  if (e === null || e.accountId === null) return null
  let chatList: ChatEntry[]
  try {
    chatList = e.listChats()
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_ENGINE_STATE') return null // joining: the account doc is not open yet
    throw err
  }
  const svs = stateVectorsOf(e)
  const messages = new Map<string, Message[]>()
  for (const c of chatList) messages.set(c.chatId, e.listMessages(c.chatId))
  return new View(d, mark, svs, chatList, messages, skip)
}

function chatsDiffer(a: View, b: View): string | null {
  const [x, y] = [a.chatsShown(), b.chatsShown()]
  return x === y ? null : `list different chats: ${a.node.name} ${x}, ${b.node.name} ${y}`
}

/**
 * Null when both show the same messages of the doc (a chat's segment, or a chat doc's own
 * messages from before segments); else what one shows that the other does not (or where
 * their orders part).
 */
function messagesDiffer(va: View, vb: View, docId: string): string | null {
  const a = va.messagesOf(docId)
  const b = vb.messagesOf(docId)
  // a chat doc open before the account doc lists it: not shown on that device yet
  if (a === undefined || b === undefined || va.messagesShown(docId) === vb.messagesShown(docId)) return null
  const [nameA, nameB] = [va.node.name, vb.node.name]
  const idsB = new Set(b.map(m => m.id))
  const onlyA = a.find(m => !idsB.has(m.id))
  const counts = `(${nameA} shows ${a.length} messages, ${nameB} ${b.length})`
  if (onlyA !== undefined) return `show different messages: ${nameA} shows "${onlyA.text}" (${onlyA.id}), ${nameB} does not ${counts}`
  const idsA = new Set(a.map(m => m.id))
  const onlyB = b.find(m => !idsA.has(m.id))
  if (onlyB !== undefined) return `show different messages: ${nameB} shows "${onlyB.text}" (${onlyB.id}), ${nameA} does not ${counts}`
  const i = a.findIndex((m, k) => shownText(m) !== shownText(b[k]!))
  return `show messages in different orders: at position ${i}, ${nameA} shows ${shownText(a[i]!)} and ${nameB} shows ${shownText(b[i]!)}`
}

/**
 * Relay durability: every (doc, seq) the relay acknowledged, checked against the relay's disk
 * (what survives a crash) through a relay history opened afresh on it — the relay's own
 * reading of its format, as a restarted relay would read it. Checked again whenever the disk
 * took a batch or a new ack went out; in between, nothing it answers from can have changed.
 */
export class RelayAcks {
  /** docId → seq → the moment the relay first acknowledged it. */
  private readonly acked = new Map<string, Map<number, string>>()
  private fresh = false
  private checkedWrites = -1
  /** Parts seen on disk (`upload n`) since the last deletion: a key leaves only by a delete. */
  private readonly partsSeen = new Set<string>()
  private checkedDeletes = 0
  /** Acks checked so far (a run's statistics). */
  checks = 0

  constructor(private readonly disk: Disk) {}

  get count(): number {
    let n = 0
    for (const seqs of this.acked.values()) n += seqs.size
    return n
  }

  record(docId: string, seq: number, where: string): void {
    let seqs = this.acked.get(docId)
    if (seqs === undefined) {
      seqs = new Map()
      this.acked.set(docId, seqs)
    }
    if (!seqs.has(seq)) {
      seqs.set(seq, where)
      this.fresh = true
    }
  }

  async check(where: string): Promise<string[]> {
    if (!this.fresh && writesOf(this.disk) === this.checkedWrites) return []
    this.fresh = false
    this.checkedWrites = writesOf(this.disk)
    if (deletesOf(this.disk) !== this.checkedDeletes) {
      this.checkedDeletes = deletesOf(this.disk)
      this.partsSeen.clear()
    }
    this.checks++
    const history = await HistoryStore.open(readOnly(this.disk.db), { maxBlobBytes: Number.MAX_SAFE_INTEGER, accountQuotaBytes: Number.MAX_SAFE_INTEGER })
    const out: string[] = []
    const lost = (docId: string, seq: number, why: string): void => {
      out.push(`relay durability ${where}: the relay acknowledged seq ${seq} of ${docId} at ${this.acked.get(docId)!.get(seq)!}, but its history on disk ${why}`)
      this.acked.get(docId)!.delete(seq) // reported once
    }
    for (const [docId, seqs] of this.acked) {
      if (seqs.size === 0) continue
      const meta = await history.meta(docId)
      if (meta === null) {
        for (const seq of [...seqs.keys()]) lost(docId, seq, 'has no such doc')
        continue
      }
      const covers = meta.snapshot?.covers ?? 0
      if (meta.snapshot !== null && [...seqs.keys()].some(s => s <= covers)) {
        const missing = await this.missingPart(history, meta.snapshot.upload, meta.snapshot.parts)
        if (missing !== null) for (const seq of [...seqs.keys()].filter(s => s <= covers)) lost(docId, seq, `lacks part ${missing} of the snapshot covering it`)
      }
      const live = new Map((await history.entriesAfter(docId, covers, Number.MAX_SAFE_INTEGER)).map(e => [e.seq, e]))
      for (const seq of [...seqs.keys()]) {
        if (seq <= covers) continue
        if (seq > meta.head) {
          lost(docId, seq, `ends at seq ${meta.head}`)
          continue
        }
        const entry = live.get(seq)
        if (entry === undefined) {
          lost(docId, seq, `has no entry for it (head ${meta.head}, snapshot covering ${covers})`)
          continue
        }
        const missing = await this.missingPart(history, entry.upload, entry.parts)
        if (missing !== null) lost(docId, seq, `lacks part ${missing} of its blob`)
      }
    }
    return out
  }

  private async missingPart(history: HistoryStore, upload: string, parts: number): Promise<number | null> {
    for (let n = 0; n < parts; n++) {
      if (this.partsSeen.has(`${upload} ${n}`)) continue
      if ((await history.readPart(upload, n)) === undefined) return n
      this.partsSeen.add(`${upload} ${n}`)
    }
    return null
  }
}

/** Reads of a disk without writing it (a history opened on it would drop crashed uploads' parts). */
export const readOnly = (db: KeyValueStore): KeyValueStore => ({
  open: async () => {},
  close: async () => {},
  get: key => db.get(key),
  batch: async () => {},
  keys: range => db.keys(range),
  iterator: range => db.iterator(range)
})
