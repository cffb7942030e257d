import { describe, expect, it } from 'vitest'
import { CLOCK_FLOOR_MARGIN_MS, ClockFloor, type ClockFloorStore } from '../../src/chat/clock-floor.js'
import { compareHlc, type Hlc, HybridLogicalClock } from '../../src/hlc.js'

/** A store whose writes land only when told to; `crash()` forgets the ones that had not. */
class GatedStore implements ClockFloorStore {
  readonly disk = new Map<string, Uint8Array>()
  private readonly inFlight: Array<{ name: string; value: Uint8Array; land: () => void }> = []
  writes = 0
  async getMeta(name: string): Promise<Uint8Array | undefined> {
    return this.disk.get(name)
  }
  putMeta(name: string, value: Uint8Array): Promise<void> {
    this.writes++
    return new Promise(resolve => {
      this.inFlight.push({ name, value, land: resolve })
    })
  }
  landAll(): void {
    for (const w of this.inFlight.splice(0)) {
      this.disk.set(w.name, w.value)
      w.land()
    }
  }
  crash(): void {
    this.inFlight.length = 0
  }
}

const settle = async (): Promise<void> => {
  for (let i = 0; i < 10; i++) await Promise.resolve()
}

/** The device starts again on `store`: a new clock, covered for its first tick (the floor's writes landed). */
async function restart(store: GatedStore, now: number): Promise<HybridLogicalClock> {
  const clock = new HybridLogicalClock(() => now)
  const covered = new ClockFloor(store, clock, () => now).cover(() => {})
  await settle()
  store.landAll()
  await covered
  return clock
}

describe('ClockFloor', () => {
  it('a clock on the device’s own time ticks without a write', async () => {
    const store = new GatedStore()
    let now = 1_000
    const hlc = new HybridLogicalClock(() => now)
    const floor = new ClockFloor(store, hlc, () => now)
    for (let i = 0; i < 5; i++) {
      await floor.cover(() => {})
      hlc.tick()
      now += 1
    }
    expect(store.writes).toBe(0)
  })

  it('a clock pushed ahead of the device’s time ticks only once a floor past it is on disk, and after a crash starts above every tick it issued', async () => {
    const store = new GatedStore()
    const now = 1_000
    const hlc = new HybridLogicalClock(() => now)
    const floor = new ClockFloor(store, hlc, () => now)
    hlc.observe({ wall: 5_000, counter: 3 }) // another device's clock is 4 s ahead
    let covered = false
    const waiting = floor
      .cover(() => {})
      .then(() => {
        covered = true
      })
    await settle()
    expect(covered).toBe(false) // the tick waits for the floor's write
    store.landAll()
    await waiting
    const issued: Hlc[] = [hlc.tick()]
    // ticks within the margin need no other write
    for (let i = 0; i < 3; i++) {
      await floor.cover(() => {})
      issued.push(hlc.tick())
    }
    expect(store.writes).toBe(1)
    // a crash: the device restarts with nothing it wrote since (its messages lost) but the floor
    store.crash()
    const after = (await restart(store, now)).tick()
    for (const t of issued) expect(compareHlc(after, t)).toBeGreaterThan(0)
    expect(after.wall).toBeLessThanOrEqual(5_000 + CLOCK_FLOOR_MARGIN_MS + 1)
  })

  it('what the clock must see is folded in after each wait: a clock pushed on during a write waits for a floor past that too', async () => {
    const store = new GatedStore()
    const now = 1_000
    const hlc = new HybridLogicalClock(() => now)
    const floor = new ClockFloor(store, hlc, () => now)
    hlc.observe({ wall: 2_000, counter: 0 })
    let pushed = false
    const waiting = floor.cover(() => {
      if (store.writes === 1 && !pushed) {
        pushed = true
        hlc.observe({ wall: 2_000 + 10 * CLOCK_FLOOR_MARGIN_MS, counter: 0 })
      }
    })
    await settle()
    store.landAll() // the first floor lands; the clock is now past it
    await settle()
    expect(store.writes).toBe(2)
    store.landAll()
    await waiting
    const t = hlc.tick()
    expect(t.wall).toBeLessThan(2_000 + 11 * CLOCK_FLOOR_MARGIN_MS)
    // the floor on disk is past it
    expect((await restart(store, now)).nextWall()).toBeGreaterThan(t.wall)
  })
})
