import * as encoding from 'lib0/encoding'
import * as Y from 'yjs'

/**
 * `update` (v1, as Y.encodeStateAsUpdate writes it: its structs, then the doc's whole delete
 * set) without the deletions of items of `clients`. A cut that leaves another account's writers
 * out (UploadCutter) leaves out their items' deletions too: they are that account's to carry
 * (a deletion of a message record come without the tombstone written beside it leaves the
 * message shown, its record gone), and the deleter's own upload carries both. Returned as it is
 * when its delete set is not the last bytes as this writes them (never, from Yjs 13), or names
 * none of them.
 */
export function withoutDeletionsOf(update: Uint8Array, clients: ReadonlySet<number>): Uint8Array {
  const { ds } = Y.decodeUpdate(update)
  if (![...ds.clients.keys()].some(c => clients.has(c))) return update
  const whole = encodeDeleteSet(ds.clients)
  const head = update.byteLength - whole.byteLength
  if (head < 0 || !whole.every((b, i) => b === update[head + i])) return update
  const kept = new Map([...ds.clients].filter(([client]) => !clients.has(client)))
  const tail = encodeDeleteSet(kept)
  const out = new Uint8Array(head + tail.byteLength)
  out.set(update.subarray(0, head))
  out.set(tail, head)
  return out
}

/** A delete set as Yjs' UpdateEncoderV1 writes it: clients in descending order, each with its ranges (clock, length). */
function encodeDeleteSet(clients: ReadonlyMap<number, ReadonlyArray<{ clock: number; len: number }>>): Uint8Array {
  return encoding.encode(e => {
    encoding.writeVarUint(e, clients.size)
    for (const [client, items] of [...clients].sort((a, b) => b[0] - a[0])) {
      encoding.writeVarUint(e, client)
      encoding.writeVarUint(e, items.length)
      for (const item of items) {
        encoding.writeVarUint(e, item.clock)
        encoding.writeVarUint(e, item.len)
      }
    }
  })
}
