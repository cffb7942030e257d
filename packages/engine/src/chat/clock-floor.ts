import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import type { HybridLogicalClock } from '../hlc.js'

/** How far past the timestamp it is written for a stored floor reaches (one write covers this much of a clock running ahead). */
export const CLOCK_FLOOR_MARGIN_MS = 2_000

/** Writes of the floor a tick may wait for, at most, when other devices keep pushing the clock on meanwhile. */
const MAX_FLOOR_WRITES = 8

const FLOOR_META = 'hlc-floor'

/** Where the floor is kept: the device's store (a durable metadata entry). */
export interface ClockFloorStore {
  getMeta(name: string): Promise<Uint8Array | undefined>
  putMeta(name: string, value: Uint8Array): Promise<void>
}

/**
 * Keeps the hybrid logical clock from issuing, after a crash, a timestamp it issued before.
 *
 * A message's id and an edit's order come from the clock, which after a restart starts from
 * the newest message the device's store holds. A message's upload does not wait for its own
 * write to land on the device's disk (latency: an fsync), so a crash can lose the device's copy
 * of a message the relay already has. While the clock runs on the device's own time, the next
 * start's time is later anyway; but a clock pushed ahead of it by another device's would start
 * behind, and stamp a new message with the lost one's id (the simulator, seed 20261152 once
 * writes landed a turn later: the relay held two messages under one id, "a0d0#21" and
 * "a0d0#64"). So before a tick ahead of the device's
 * own time, a floor past it is put on disk, and the clock starts from it at the next start.
 * One write covers {@link CLOCK_FLOOR_MARGIN_MS} of running ahead; a clock on the device's own
 * time writes nothing.
 */
export class ClockFloor {
  /** Every timestamp issued ahead of the device's own time is below this, on disk. */
  private durable = 0
  private writing: Promise<void> | null = null
  /** The stored floor, until it has been read (then null). */
  private loading: Promise<void> | null

  constructor(
    private readonly store: ClockFloorStore,
    private readonly hlc: HybridLogicalClock,
    private readonly now: () => number
  ) {
    this.loading = store.getMeta(FLOOR_META).then(bytes => {
      this.loading = null
      if (bytes === undefined) return
      this.durable = Math.max(this.durable, decoding.readVarUint(decoding.createDecoder(bytes)))
      hlc.observe({ wall: this.durable, counter: 0 })
    })
  }

  /**
   * Resolves once the clock's next tick may be issued; tick at once after, with nothing awaited
   * in between. `observe` folds in what the clock must see before it ticks (called again after
   * every wait: more may have come meanwhile).
   */
  async cover(observe: () => void): Promise<void> {
    if (this.loading !== null) await this.loading
    for (let i = 0; i < MAX_FLOOR_WRITES; i++) {
      observe()
      const wall = this.hlc.nextWall()
      if (wall <= this.now() || wall < this.durable) return
      this.writing ??= this.write(Math.ceil(wall + CLOCK_FLOOR_MARGIN_MS))
      await this.writing
    }
    observe() // (pushed on past MAX_FLOOR_WRITES floors while waiting: it ticks past the last one)
  }

  private async write(floor: number): Promise<void> {
    try {
      await this.store.putMeta(
        FLOOR_META,
        encoding.encode(e => encoding.writeVarUint(e, floor))
      )
      this.durable = Math.max(this.durable, floor)
    } finally {
      this.writing = null
    }
  }
}
