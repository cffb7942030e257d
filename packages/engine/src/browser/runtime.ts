import { createSystemRuntime } from '../runtime.js'

/**
 * A browser's `setImmediate`: a MessageChannel message is a macrotask that runs after the
 * events already queued, without the 4 ms clamp nested `setTimeout(fn, 0)` calls get.
 */
function createDefer(): (fn: () => void) => void {
  const queue: Array<() => void> = []
  const channel = new MessageChannel()
  channel.port1.onmessage = () => {
    const fn = queue.shift()
    fn?.()
  }
  return fn => {
    queue.push(fn)
    channel.port2.postMessage(null)
  }
}

export const browserRuntime = createSystemRuntime(createDefer())
