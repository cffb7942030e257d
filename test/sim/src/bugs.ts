import { RelayState } from '@tandem/engine/internal'
import { HistoryStore } from '@tandem/relay'
import type { Rng } from './rng.js'

/**
 * Known bugs the simulator must catch (its teeth): each patches the real code
 * for the length of one run and is undone afterwards.
 */
export type Bug = 'relay-drops-acked-append' | 'outbox-forgets-on-restart' | 'sent-merge-takes-minimum'

export const BUGS: readonly Bug[] = ['relay-drops-acked-append', 'outbox-forgets-on-restart', 'sent-merge-takes-minimum']

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
  }
}
