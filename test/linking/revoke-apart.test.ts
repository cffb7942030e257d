// Two devices of an account on a LAN with no relay, apart from each other but both connected to a
// third, revoke each other at the same moment, over real libp2p connections. Fork choice is a rule
// of the set of links, so all three must end on one list and the device that lost must learn it,
// whichever link reached the third device first. One device's disk is slow (each batch 40 ms late,
// as a phone's or a browser's may be): the third device takes the other's link and closes on it
// before its own link has left it. (packages/engine/test/devices.test.ts has the same case over
// memory links, which drop what is in flight when a side closes: with writes deferred there it
// never converged, while over libp2p it does.)
import { createEngine, type Engine, type EngineEvent } from '@tandem/engine'
import { MemoryLevel } from 'memory-level'
import { afterEach, expect, it } from 'vitest'
import { linkDevices } from '../helpers/link-devices.js'
import { untilEngine } from '../helpers/until.js'

/** A memory store whose every batch lands `delayMs` late. */
class SlowStore extends MemoryLevel<string, Uint8Array> {
  constructor(private readonly delayMs: number) {
    super({ keyEncoding: 'utf8', valueEncoding: 'view' })
  }
  override async _batch(...args: Parameters<MemoryLevel<string, Uint8Array>['_batch']>): Promise<void> {
    await new Promise(resolve => setTimeout(resolve, this.delayMs))
    return super._batch(...args)
  }
}

const engines: Engine[] = []
afterEach(async () => {
  await Promise.all(engines.splice(0).map(e => e.stop()))
})

async function lanDevice(name: string, diskDelayMs = 0): Promise<Engine> {
  const e = await createEngine({ store: new SlowStore(diskDelayMs), deviceName: name, network: { listen: ['/ip4/127.0.0.1/tcp/0'], relays: [], mdns: false } })
  engines.push(e)
  await e.start()
  return e
}

const sorted = (e: Engine): string[] =>
  e
    .listDevices()
    .map(d => d.peerId)
    .sort()

// either may win (the lowest hash decides two mutual revocations): rounds see both ways
for (let round = 0; round < 4; round++)
  it(`two devices that revoke each other while apart end, with the device between them, on one list; the loser learns it (round ${round})`, async () => {
    // a's disk is slow: c takes b's link and closes on a before a's own link has left it
    const [a, b, c] = [await lanDevice('a', 40), await lanDevice('b'), await lanDevice('c')]
    await a.createAccount({ name: 'Ann', recovery: false })
    await linkDevices(a, b)
    await linkDevices(a, c)
    a.dial(c.multiaddrs()[0]!)
    b.dial(c.multiaddrs()[0]!)
    await untilEngine(c, () => c.connectedPeers().length === 2 && c.listDevices().length === 3, 'c connected to both')
    await untilEngine(b, () => b.listDevices().length === 3, 'b lists all three')
    const seen = new Map<Engine, EngineEvent[]>()
    for (const e of [a, b]) {
      const events: EngineEvent[] = []
      e.subscribe(ev => events.push(ev))
      seen.set(e, events)
    }
    await Promise.all([a.revokeDevice(b.peerId), b.revokeDevice(a.peerId)])
    const learnt = (e: Engine): boolean => seen.get(e)!.some(ev => ev.type === 'revoked')
    // the loser hears of it and leaves the account (its engine stops, its store erased)
    await Promise.race([untilEngine(a, () => learnt(a), 'a learns', 20_000), untilEngine(b, () => learnt(b), 'b learns', 20_000)])
    const loser = learnt(a) ? a : b
    const winner = loser === a ? b : a
    expect(learnt(winner)).toBe(false)
    await untilEngine(c, () => c.listDevices().length === 2, 'c lists two', 20_000)
    await untilEngine(winner, () => sorted(winner).join() === sorted(c).join(), 'the winner on c’s list', 20_000)
    expect(sorted(c)).toEqual([winner.peerId, c.peerId].sort())
    expect(c.listRevokedDevices()).toEqual([loser.peerId])
  }, 60_000)
