import { createSystemRuntime } from '../runtime.js'

/** Node's runtime: `setImmediate` ends a burst after the I/O callbacks already queued. */
export const systemRuntime = createSystemRuntime(fn => {
  setImmediate(fn)
})
