import * as Y from 'yjs'

/** A Yjs state vector as a map client → next clock. */
export type StateVector = Map<number, number>

export const decodeSv = (bytes: Uint8Array): StateVector => Y.decodeStateVector(bytes)
export const encodeSv = (sv: StateVector): Uint8Array => Y.encodeStateVector(sv)

/** Raises `into` to cover `from` as well (clock-wise maximum). Returns whether anything grew. */
export function mergeSv(into: StateVector, from: StateVector): boolean {
  let grew = false
  for (const [client, clock] of from) {
    if ((into.get(client) ?? 0) < clock) {
      into.set(client, clock)
      grew = true
    }
  }
  return grew
}

/** True when the update carries no structs and no deletions. */
export function isEmptyUpdate(update: Uint8Array): boolean {
  return update.byteLength <= 2 && update.every(b => b === 0)
}
