import { MemoryLevel } from 'memory-level'
import { MAX_CHUNK_BYTES, decodeSyncFrame } from '@tandem/protocol'
import { afterEach, describe, expect, it } from 'vitest'
import { createEngine, createMemoryLinkPair, type Engine, type EngineEvent } from '../src/node/index.js'
import { linkDevices } from '../../../test/helpers/link-devices.js'
import { untilEngine } from '../../../test/helpers/until.js'

const engines: Engine[] = []
afterEach(async () => {
  await Promise.all(engines.splice(0).map(e => e.stop()))
})

async function engine(name: string, clockSkewMs = 0): Promise<Engine> {
  const runtime = clockSkewMs === 0 ? undefined : { now: () => Date.now() + clockSkewMs }
  const e = await createEngine({ store: new MemoryLevel({ keyEncoding: 'utf8', valueEncoding: 'view' }), deviceName: name, network: false, runtime })
  await e.start()
  engines.push(e)
  return e
}

/** Links two engines; returns a count of the update frames sent either way, and a way to cut the link. */
function connect(a: Engine, b: Engine): { updates: () => number; cut: () => void } {
  const [ab, ba] = createMemoryLinkPair(a.peerId, b.peerId)
  let updates = 0
  for (const link of [ab, ba]) {
    const send = link.send.bind(link)
    link.send = async frame => {
      if (decodeSyncFrame(frame).type === 'update') updates++
      await send(frame)
    }
  }
  a.addLink(ab)
  b.addLink(ba)
  return {
    updates: () => updates,
    cut: () => {
      ab.close()
      ba.close()
    }
  }
}

describe('the sync core over in-memory links', () => {
  it('converges three devices writing concurrently, over a chain of links', async () => {
    const [a, b, c] = [await engine('a'), await engine('b'), await engine('c')]
    await a.createAccount({ name: 'Ann', recovery: false })
    const chat = await a.createChat({ title: 'c' })
    await linkDevices(a, b)
    await linkDevices(a, c)
    connect(a, b)
    connect(b, c) // c reaches a only through b
    await untilEngine(c, () => c.listChats().length === 1)
    await Promise.all(
      [a, b, c].map(async (e, i) => {
        for (let n = 0; n < 30; n++) await e.sendMessage(chat.chatId, `${i}:${n}`)
      })
    )
    await Promise.all([a, b, c].map(e => untilEngine(e, () => e.messageCount(chat.chatId) === 90)))
    const ids = a.listMessages(chat.chatId).map(m => m.id)
    expect(b.listMessages(chat.chatId).map(m => m.id)).toEqual(ids)
    expect(c.listMessages(chat.chatId).map(m => m.id)).toEqual(ids)
    expect(b.stateVectors()).toEqual(a.stateVectors())
    expect(c.listDevices()).toHaveLength(3)
  })

  it('stamps a message after every message of a backfill it received, even one from a clock an hour ahead', async () => {
    const [a, b] = [await engine('a', 3_600_000), await engine('b')]
    await a.createAccount({ name: 'Ann', recovery: false })
    const chat = await a.createChat({ title: 'ahead' })
    await linkDevices(a, b)
    // more than BULK_MESSAGES: b gets them as one count, and reads their clocks later
    for (let n = 0; n < 300; n++) await a.sendMessage(chat.chatId, `from the future ${n}`)
    connect(a, b)
    await untilEngine(b, () => b.listChats().length === 1 && b.messageCount(chat.chatId) === 300)
    const reply = await b.sendMessage(chat.chatId, 'a reply')
    expect(b.listMessages(chat.chatId).at(-1)?.id).toBe(reply.id)
    expect(reply.timestamp.wall).toBeGreaterThanOrEqual(Date.now() + 3_000_000)
  })

  it("does not forward a peer's updates to a device that has a session with that peer, and resyncs when one is lost", async () => {
    const [a, b, c] = [await engine('a'), await engine('b'), await engine('c')]
    await a.createAccount({ name: 'Ann', recovery: false })
    const chat = await a.createChat({ title: 'mesh' })
    await linkDevices(a, b)
    await linkDevices(a, c)
    const ab = connect(a, b)
    // b learns of c first, so that every session below opens on equal chains (no exchange to wait out)
    await untilEngine(b, () => b.listDevices().length === 3)
    const ac = connect(a, c)
    const bc = connect(b, c)
    await untilEngine(c, () => c.listChats().length === 1 && c.connectedPeers().length === 2)
    await untilEngine(b, () => b.connectedPeers().length === 2)
    // warm up until two rounds pass with nothing on b–c: the initial syncs are done and every
    // session has heard its peer's peers frame (a forward decided before that is written at the
    // end of its burst, possibly after the round that caused it; bounded at 10 rounds)
    let warmUps = 0
    for (let quiet = 0; quiet < 2 && warmUps < 10; ) {
      const seen = bc.updates()
      warmUps++
      await a.sendMessage(chat.chatId, `warm-up ${warmUps}`)
      await Promise.all([b, c].map(e => untilEngine(e, () => e.messageCount(chat.chatId) === warmUps)))
      quiet = bc.updates() === seen ? quiet + 1 : 0
    }
    const before = bc.updates()
    for (let i = 0; i < 20; i++) await a.sendMessage(chat.chatId, `mesh ${i}`)
    await Promise.all([b, c].map(e => untilEngine(e, () => e.messageCount(chat.chatId) === warmUps + 20)))
    expect(ab.updates()).toBeGreaterThan(0)
    expect(ac.updates()).toBeGreaterThan(0)
    expect(bc.updates()).toBe(before) // b and c never passed a's updates to each other
    // a and c lose each other: what a sends now reaches c through b
    ac.cut()
    await untilEngine(c, () => c.connectedPeers().length === 1)
    for (let i = 20; i < 30; i++) await a.sendMessage(chat.chatId, `mesh ${i}`)
    await untilEngine(c, () => c.messageCount(chat.chatId) === warmUps + 30)
    expect(c.listMessages(chat.chatId).map(m => m.id)).toEqual(a.listMessages(chat.chatId).map(m => m.id))
  })

  it('reports a backfill as one count, and orders later sends after everything it brought', async () => {
    const [a, b] = [await engine('a'), await engine('b')]
    await a.createAccount({ name: 'Ann', recovery: false })
    const chat = await a.createChat({ title: 'history' })
    await Promise.all(Array.from({ length: 1_000 }, (_, i) => a.sendMessage(chat.chatId, `old ${i}`)))
    await linkDevices(a, b)
    const events: EngineEvent[] = []
    b.subscribe(e => {
      if (e.type === 'message' || e.type === 'messages') events.push(e)
    })
    connect(a, b)
    await untilEngine(b, () => b.listChats().length === 1 && b.messageCount(chat.chatId) === 1_000)
    expect(events.filter(e => e.type === 'message')).toEqual([])
    expect(events.filter(e => e.type === 'messages').reduce((n, e) => n + (e.type === 'messages' ? e.count : 0), 0)).toBe(1_000)
    expect(b.listMessages(chat.chatId).map(m => m.id)).toEqual(a.listMessages(chat.chatId).map(m => m.id))
    // b's clock observed the backfill's newest clock: its next message sorts last everywhere
    const mine = await b.sendMessage(chat.chatId, 'new')
    expect(b.listMessages(chat.chatId).at(-1)!.id).toBe(mine.id)
    // a live message from a still arrives as one event
    await a.sendMessage(chat.chatId, 'live')
    await untilEngine(b, () => events.some(e => e.type === 'message' && e.message.text === 'live'))
  })

  it('chunks a diff larger than one frame and reassembles it', async () => {
    const [a, b] = [await engine('a'), await engine('b')]
    await a.createAccount({ name: 'Ann', recovery: false })
    const chat = await a.createChat({ title: 'big' })
    const big = 'x'.repeat(60 * 1024)
    await Promise.all(Array.from({ length: 12 }, (_, i) => a.sendMessage(chat.chatId, `${i}${big}`)))
    expect(12 * big.length).toBeGreaterThan(3 * MAX_CHUNK_BYTES)
    await linkDevices(a, b)
    connect(a, b)
    await untilEngine(b, () => {
      try {
        return b.messageCount(chat.chatId) === 12
      } catch {
        return false
      }
    })
    expect(b.listMessages(chat.chatId).map(m => m.text)).toEqual(a.listMessages(chat.chatId).map(m => m.text))
  })

  it('refuses a device of another account with a typed error, on both sides', async () => {
    const [a, eve] = [await engine('a'), await engine('eve')]
    await a.createAccount({ name: 'Ann', recovery: false })
    await eve.createAccount({ name: 'Eve', recovery: false })
    const refused: EngineEvent[] = []
    a.subscribe(e => {
      if (e.type === 'refused') refused.push(e)
    })
    connect(a, eve)
    await untilEngine(a, () => refused.length > 0)
    expect(refused[0]).toMatchObject({ type: 'refused', peerId: eve.peerId, error: { code: 'ERR_WRONG_ACCOUNT' } })
    expect(a.connectedPeers()).toEqual([])
  })

  it('keeps one session per peer when both sides dial at once', async () => {
    const [a, b] = [await engine('a'), await engine('b')]
    await a.createAccount({ name: 'Ann', recovery: false })
    await linkDevices(a, b)
    connect(a, b)
    connect(b, a)
    await untilEngine(a, () => a.connectedPeers().length === 1)
    const chat = await a.createChat({ title: 'dup' })
    await a.sendMessage(chat.chatId, 'once')
    await untilEngine(b, () => {
      try {
        return b.messageCount(chat.chatId) === 1
      } catch {
        return false
      }
    })
    expect(a.connectedPeers()).toEqual([b.peerId])
    expect(b.connectedPeers()).toEqual([a.peerId])
  })
})
