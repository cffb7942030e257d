import * as Y from 'yjs'
import { withoutDeletionsOf } from './delete-set.js'
import { encodeSv, isEmptyUpdate, type StateVector } from './state-vector.js'

/** One upload cut from a doc: the update, the clocks it reaches, and what the relay will hold once it is in. */
export interface Cut {
  update: Uint8Array
  reach: StateVector
  uploaded: StateVector
}

interface OwnUpdates {
  updates: Uint8Array[]
  from: number
  to: number
  contiguous: boolean
}

/**
 * Decides what a device uploads to a relay for one doc, given what the relay's log
 * holds (`uploaded`). Its own writes are the merge of the updates its transactions
 * made since the last cut; cutting them from the doc instead (encodeStateAsUpdate)
 * walks every struct of the doc for its delete set — a long chat's every upload cost
 * the whole chat. The doc is cut only for everything (`all`: peers' content too) or
 * when the collected updates do not join up with what was uploaded.
 */
export class UploadCutter {
  private readonly own = new Map<string, OwnUpdates>()

  /** An update made by a local transaction (`transaction` absent: its span is unknown). */
  collect(docId: string, update: Uint8Array, transaction?: Y.Transaction): void {
    const span = transaction === undefined ? null : ownSpan(transaction)
    let own = this.own.get(docId)
    if (own === undefined) {
      own = { updates: [], from: span?.from ?? -1, to: span?.from ?? -1, contiguous: span !== null }
      this.own.set(docId, own)
    }
    if (span === null || span.from !== own.to) own.contiguous = false
    own.updates.push(update)
    if (span !== null) own.to = span.to
  }

  /** Whether own updates of this doc were collected since the last cut. */
  has(docId: string): boolean {
    return this.own.has(docId)
  }

  /**
   * What to upload now (null: nothing); forgets the collected updates either way. `foreign`
   * names the clients of a cut that wrote another account's messages: they are left out, as if
   * the relay held them (a peer's content goes up only from a device of its author's account:
   * another account's device that carried it up made every reader that did not hold it refuse
   * the whole blob, ERR_FORGED_AUTHOR, and wait for ever on what came after it from this client).
   */
  cut(docId: string, doc: Y.Doc, uploaded: StateVector, all: boolean, foreign?: (update: Uint8Array) => ReadonlySet<number> | undefined): Cut | null {
    const me = doc.clientID
    const own = this.own.get(docId)
    this.own.delete(docId)
    const mine = Y.getState(doc.store, me)
    const uploadedMine = uploaded.get(me) ?? 0
    if (!all && own !== undefined && own.contiguous && own.from === uploadedMine && own.to === mine && mine > uploadedMine) {
      const update = own.updates.length === 1 ? own.updates[0]! : Y.mergeUpdates(own.updates)
      return { update, reach: new Map([[me, mine]]), uploaded: new Map(uploaded).set(me, mine) }
    }
    // a change that adds no struct (a bare deletion) only shows in the delete set: send all
    if (!all && mine <= uploadedMine) all = true
    const docSv = Y.decodeStateVector(Y.encodeStateVector(doc))
    // ours alone: pretend the relay has every other client's content
    const target = all ? new Map(uploaded) : new Map(docSv).set(me, uploadedMine)
    let update = Y.encodeStateAsUpdate(doc, encodeSv(target))
    // (ours alone holds no other account's writes)
    const others = all ? [...(foreign?.(update) ?? [])].filter(client => client !== me) : []
    if (others.length > 0) {
      for (const client of others) target.set(client, docSv.get(client) ?? 0)
      update = withoutDeletionsOf(Y.encodeStateAsUpdate(doc, encodeSv(target)), new Set(others))
    }
    if (isEmptyUpdate(update)) return null
    const reach: StateVector = new Map([...docSv].filter(([client, clock]) => clock > (target.get(client) ?? 0)))
    return { update, reach, uploaded: all ? docSv : new Map(uploaded).set(me, mine) }
  }
}

/** The clocks of this device's client a local transaction went from and to. */
function ownSpan(tr: Y.Transaction): { from: number; to: number } {
  const client = tr.doc.clientID
  return { from: tr.beforeState.get(client) ?? 0, to: tr.afterState.get(client) ?? 0 }
}
