import type { Runtime } from '../runtime.js'
import { createSystemRuntime } from '../runtime.js'
import { nodeSignatures } from './signatures.js'

/** Node's runtime: `setImmediate` ends a burst after the I/O callbacks already queued; Ed25519 from Node's own crypto. */
export const systemRuntime: Runtime = {
  ...createSystemRuntime(fn => {
    setImmediate(fn)
  }),
  signatures: nodeSignatures
}
