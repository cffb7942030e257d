import type { Link } from '@tandem/engine'

/** The same link, counting the bytes sent over it into `count` (and showing each frame to `seen`). */
export function counted(link: Link, count: { bytes: number }, seen?: (frame: Uint8Array) => void): Link {
  return {
    remotePeerId: link.remotePeerId,
    direction: link.direction,
    relayedVia: link.relayedVia,
    start: handlers => {
      link.start(handlers)
    },
    send: frame => {
      count.bytes += frame.byteLength
      seen?.(frame)
      return link.send(frame)
    },
    close: error => {
      link.close(error)
    }
  }
}
