import type * as Y from 'yjs'
import { comparePositions, decodePosition, encodePosition, laterOf, type Position } from './position.js'

/** Delivered: on at least one device of the account. Read: the account read up to it. */
export type ReceiptKind = 'delivered' | 'read'

/** One account's watermark moved forward (`from` null: it had none). */
export interface WatermarkMove {
  kind: ReceiptKind
  account: string
  from: Position | null
  to: Position
}

const KEY_OF: Record<ReceiptKind, string> = { delivered: 'd', read: 'r' }
const KIND_OF: Record<string, ReceiptKind> = { d: 'delivered', r: 'read' }
/** Separates the parts of a key: no account id or peer id holds it. */
const SEP = ' '

/**
 * The delivered and read watermarks of a chat, in its chat doc (`receipts`), synced to every
 * device of every member like the rest of the doc.
 *
 * One key per kind, account and device (`d <account> <device>` → position), written only by
 * that device and only ever raised; an account's watermark is the latest of its devices'.
 * One key per account would be a Y.Map entry two devices of the account can write at once,
 * and Yjs keeps one of two concurrent writes by client id, not by value: a read watermark
 * could go back. Per device, a key has one writer, so a merge in any order keeps every
 * device's latest, and the maximum over them never goes back (`test/receipts`).
 *
 * Read implies delivered: an account's delivered watermark is the later of the two.
 */
export class ReceiptBook {
  readonly marks: Y.Map<Uint8Array>
  /** Watermark per `kind account`, computed on first use and kept up to date. */
  private readonly cache = new Map<string, Position | null>()
  /** The highest each watermark has been: what it is never shown below. */
  private readonly floor = new Map<string, Position>()

  /** Watermark per `kind account` as shown: what this device's disk holds (see the constructor). */
  private readonly shown = new Map<string, Position | null>()

  constructor(
    doc: Y.Doc,
    /** Watermarks that moved forward, with the transaction's origin. */
    onMoved?: (moves: WatermarkMove[], origin: unknown) => void,
    /**
     * Resolves once what the doc holds now is on this device's disk. A move is shown only
     * then: one shown from an update still in memory went back when the device crashed before
     * writing it (read, then delivered again after the restart, until the relay sent it
     * again: simulator seeds 20261130 and 20261135 with --people). Without it, at once.
     */
    committed?: () => Promise<void>
  ) {
    this.marks = doc.getMap('receipts')
    // every watermark known now (the doc as read from disk), so a move reports where it came from (not "from nothing")
    for (const account of this.accounts()) for (const kind of ['delivered', 'read'] as const) this.shown.set(`${kind}${SEP}${account}`, this.latest(kind, account))
    this.marks.observe(event => {
      const touched = new Set<string>()
      for (const key of event.keysChanged) {
        const parsed = parseKey(key)
        if (parsed === null) continue
        // delivered before read: a read that covers what was not delivered yet moves both, in that order
        touched.add(`delivered${SEP}${parsed.account}`)
        touched.add(`read${SEP}${parsed.account}`)
      }
      // what this update makes each watermark, shown once it is on disk (later updates wait for their own write)
      const targets: Array<[slot: string, to: Position]> = []
      for (const slot of touched) {
        this.cache.delete(slot)
        const [kind, account] = slot.split(SEP) as [ReceiptKind, string]
        const to = this.latest(kind, account)
        if (to !== null) targets.push([slot, to])
      }
      const show = (): void => {
        const moves: WatermarkMove[] = []
        for (const [slot, to] of targets) {
          const from = this.shown.get(slot) ?? null
          if (from !== null && comparePositions(to, from) <= 0) continue
          this.shown.set(slot, to)
          const [kind, account] = slot.split(SEP) as [ReceiptKind, string]
          moves.push({ kind, account, from, to })
        }
        if (moves.length > 0) onMoved?.(moves, event.transaction.origin)
      }
      if (committed === undefined) show()
      else void committed().then(show, show) // (a write that failed is reported where it failed; the mark is shown as before)
    })
  }

  /** An account's watermark as shown: the latest any of its devices wrote (for delivered, the latest of delivered and read) that is on this device's disk; null if none. */
  watermark(kind: ReceiptKind, account: string): Position | null {
    return this.shown.get(`${kind}${SEP}${account}`) ?? null
  }

  /** An account's watermark in the doc in memory (written to disk or not yet). */
  private latest(kind: ReceiptKind, account: string): Position | null {
    const slot = `${kind}${SEP}${account}`
    if (this.cache.has(slot)) return this.cache.get(slot)!
    let mark: Position | null = null
    for (const [key, bytes] of this.marks.entries()) {
      const parsed = parseKey(key)
      if (parsed === null || parsed.account !== account || (parsed.kind !== kind && kind === 'read')) continue
      mark = laterOf(mark, decodePosition(bytes))
    }
    // never below what it was: a device's newer write whose update comes before the one ahead
    // of it deletes the older value at once (Yjs applies a delete set while the insert it goes
    // with waits), and the key reads as missing until the gap is filled (property test, seed 1660313913)
    const floor = this.floor.get(slot) ?? null
    mark = floor === null ? mark : laterOf(mark, floor)
    if (mark !== null) this.floor.set(slot, mark)
    this.cache.set(slot, mark)
    return mark
  }

  /** This device's own watermark of a kind (what it last wrote), or null. */
  ownMark(kind: ReceiptKind, account: string, device: string): Position | null {
    return decodePosition(this.marks.get(keyOf(kind, account, device)))
  }

  /**
   * Raises this device's watermark to `to` if that is later than what it wrote before (the
   * caller's transaction). False when it was already there: nothing is written.
   */
  raise(kind: ReceiptKind, account: string, device: string, to: Position): boolean {
    const own = this.ownMark(kind, account, device)
    if (own !== null && comparePositions(own, to) >= 0) return false
    this.marks.set(keyOf(kind, account, device), encodePosition(to))
    return true
  }

  /** The accounts that have a watermark in this chat. */
  accounts(): string[] {
    const out = new Set<string>()
    for (const key of this.marks.keys()) {
      const parsed = parseKey(key)
      if (parsed !== null) out.add(parsed.account)
    }
    return [...out]
  }
}

const keyOf = (kind: ReceiptKind, account: string, device: string): string => `${KEY_OF[kind]}${SEP}${account}${SEP}${device}`

function parseKey(key: string): { kind: ReceiptKind; account: string; device: string } | null {
  const [k, account, device] = key.split(SEP)
  const kind = k === undefined ? undefined : KIND_OF[k]
  if (kind === undefined || account === undefined || device === undefined) return null
  return { kind, account, device }
}
