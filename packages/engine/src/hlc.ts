/**
 * Hybrid logical clock (Kulkarni et al.): a timestamp close to wall time that
 * still moves forward past every timestamp this device has seen, so a reply
 * always sorts after the message it answers even across skewed clocks.
 */
export interface Hlc {
  /** Wall-clock milliseconds (max of local clock and any timestamp seen). */
  wall: number
  /** Logical counter breaking ties within one millisecond. */
  counter: number
}

export function compareHlc(a: Hlc, b: Hlc): number {
  return a.wall !== b.wall ? a.wall - b.wall : a.counter - b.counter
}

export class HybridLogicalClock {
  private last: Hlc = { wall: 0, counter: 0 }

  constructor(private readonly now: () => number) {}

  /** The wall time the next {@link tick} would have (it moves nothing). */
  nextWall(): number {
    return Math.max(this.now(), this.last.wall)
  }

  /** Timestamp for a local event (sending a message). */
  tick(): Hlc {
    const wall = Math.max(this.now(), this.last.wall)
    const counter = wall === this.last.wall ? this.last.counter + 1 : 0
    this.last = { wall, counter }
    return this.last
  }

  /** Fold in a timestamp seen on a received message. */
  observe(remote: Hlc): void {
    if (compareHlc(remote, this.last) > 0) this.last = { wall: remote.wall, counter: remote.counter }
  }
}
