import type * as Y from 'yjs'
import type { Engine } from '../../src/node/index.js'

/** The engine's open doc (as a relay's or a peer's update would reach it). */
export function openDoc(e: Engine, docId: string): Y.Doc {
  const doc = (e as unknown as { docs: { get(id: string): Y.Doc | undefined } }).docs.get(docId)
  if (doc === undefined) throw new Error(`${docId} is not open`)
  return doc
}
