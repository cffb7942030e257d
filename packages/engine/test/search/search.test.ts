import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CrashableStore, Disk } from '@tandem/storage/testing'
import { Level } from 'level'
import { afterEach, describe, expect, it } from 'vitest'
import { createEngine, type Engine } from '../../src/node/index.js'
import { linkDevices } from '../../../../test/helpers/link-devices.js'

// Search over this device's history on a real classic-level store: words found as they are
// sent, edited and deleted, in segments that left memory, and after a restart.

const dirs: string[] = []
const engines: Engine[] = []
const closers: Array<() => Promise<void>> = []
afterEach(async () => {
  await Promise.all(engines.splice(0).map(e => e.stop()))
  for (const close of closers.splice(0)) await close()
  await Promise.all(dirs.splice(0).map(d => rm(d, { recursive: true, force: true })))
})

async function open(dir: string, segmentMessages?: number): Promise<Engine> {
  const e = await createEngine({
    dataDir: dir,
    deviceName: 'laptop',
    network: { listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false },
    segments: segmentMessages === undefined ? undefined : { segmentMessages }
  })
  engines.push(e)
  return e
}

async function fresh(segmentMessages?: number): Promise<{ e: Engine; dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'tandem-search-'))
  dirs.push(dir)
  const e = await open(dir, segmentMessages)
  await e.createAccount({ name: 'Ann', recovery: false })
  return { e, dir }
}

async function stop(e: Engine): Promise<void> {
  engines.splice(engines.indexOf(e), 1)
  await e.stop()
}

/** A classic-level store that outlives the engines opened on it in turn, each of which can crash (CrashableStore). */
async function crashableDisk(): Promise<Disk> {
  const dir = await mkdtemp(join(tmpdir(), 'tandem-search-crash-'))
  dirs.push(dir)
  const db = new Level<string, Uint8Array>(dir, { keyEncoding: 'utf8', valueEncoding: 'view' })
  closers.push(() => db.close())
  return new Disk(db)
}

async function onDisk(disk: Disk): Promise<{ e: Engine; store: CrashableStore }> {
  const store = new CrashableStore(disk)
  const e = await createEngine({ store, deviceName: 'laptop', network: false, segments: { segmentMessages: 5 } })
  engines.push(e)
  return { e, store }
}

/** The process dies: what reached the disk stays, nothing else runs (the engine is never stopped). */
function crash(e: Engine, store: CrashableStore): void {
  store.crash()
  engines.splice(engines.indexOf(e), 1)
}

const texts = (found: Array<{ text: string }>): string[] => found.map(m => m.text)

describe('searchMessages', () => {
  it('finds messages by their words, every word as a prefix, newest first, in every chat or one (the index built at the first query)', async () => {
    const { e } = await fresh()
    const trip = await e.createChat({ title: 'trip' })
    const work = await e.createChat({ title: 'work' })
    await e.sendMessage(trip.chatId, 'Pack the blue tent')
    await e.sendMessage(work.chatId, 'The blue report is due')
    await e.sendMessage(trip.chatId, 'Tent poles are in the car')
    await e.sendMessage(trip.chatId, 'Nothing to see here')
    expect(texts(await e.searchMessages('tent'))).toEqual(['Tent poles are in the car', 'Pack the blue tent'])
    expect(texts(await e.searchMessages('BLUE'))).toEqual(['The blue report is due', 'Pack the blue tent'])
    expect(texts(await e.searchMessages('blu ten'))).toEqual(['Pack the blue tent'])
    expect(texts(await e.searchMessages('blue', { chatId: work.chatId }))).toEqual(['The blue report is due'])
    expect(texts(await e.searchMessages('the', { limit: 2 }))).toEqual(['Tent poles are in the car', 'The blue report is due'])
    expect(await e.searchMessages('kayak')).toEqual([])
    const [hit] = await e.searchMessages('poles')
    expect(hit).toMatchObject({ chatId: trip.chatId, author: e.accountId, device: e.peerId, edited: false })
  })

  it('finds the new text of an edited message and not the old one, and nothing of a message deleted for everyone', async () => {
    const { e } = await fresh()
    const { chatId } = await e.createChat({ title: 'c' })
    expect(await e.searchMessages('harbour')).toEqual([]) // (the index is built here: what follows comes as changes)
    const m = await e.sendMessage(chatId, 'meet at the harbour')
    const gone = await e.sendMessage(chatId, 'the secret code is walnut')
    await e.editMessage(chatId, m.id, 'meet at the station')
    await e.deleteMessage(chatId, gone.id)
    expect(await e.searchMessages('harbour')).toEqual([])
    expect((await e.searchMessages('station')).map(x => [x.id, x.edited])).toEqual([[m.id, true]])
    expect(await e.searchMessages('walnut')).toEqual([])
  })

  it('finds messages whose segment left memory, and everything again after a restart', async () => {
    const { e, dir } = await fresh(5)
    const { chatId } = await e.createChat({ title: 'long' })
    await e.searchMessages('note') // (built now: the messages below are indexed as they are sent)
    for (let i = 0; i < 40; i++) await e.sendMessage(chatId, `note ${i} ${i === 3 ? 'aardvark' : 'plain'}`)
    await e.loadMessages(chatId, { limit: 40 }) // every segment once in memory…
    // …and the oldest out of it again (the loader keeps the newest two and the last few scrolled to)
    const old = (await e.searchMessages('aardvark'))[0]!
    expect(old.text).toBe('note 3 aardvark')
    await e.editMessage(chatId, old.id, 'note 3 anteater')
    expect(texts(await e.searchMessages('anteater'))).toEqual(['note 3 anteater'])
    await stop(e)

    const again = await open(dir, 5)
    expect(Object.keys(again.stateVectors())).not.toContain(`chat:${chatId}:1`) // (only the newest two segments open at start)
    expect(texts(await again.searchMessages('anteater'))).toEqual(['note 3 anteater'])
    expect(await again.searchMessages('aardvark')).toEqual([])
    expect(await again.searchMessages('plain', { limit: 1000 })).toHaveLength(39)
  })

  it('after a crash, a start builds the index again from what the store holds', async () => {
    const disk = await crashableDisk()
    const { e, store } = await onDisk(disk)
    await e.createAccount({ name: 'Ann', recovery: false })
    const { chatId } = await e.createChat({ title: 'c' })
    const first = await e.sendMessage(chatId, 'first otter')
    for (let i = 0; i < 22; i++) await e.sendMessage(chatId, `line ${i} ${i % 2 === 0 ? 'even' : 'odd'}`)
    const second = await e.sendMessage(chatId, 'second otter')
    await e.editMessage(chatId, first.id, 'first beaver')
    const third = await e.sendMessage(chatId, 'third otter')
    await e.deleteMessage(chatId, third.id)
    crash(e, store)

    const { e: after } = await onDisk(disk)
    expect(await after.searchMessages('even', { limit: 100 })).toHaveLength(11)
    expect(texts(await after.searchMessages('line 5 odd'))).toEqual(['line 5 odd'])
    expect((await after.searchMessages('otter')).map(m => m.id)).toEqual([second.id])
    expect((await after.searchMessages('beaver')).map(m => m.id)).toEqual([first.id])
  })

  it('finds what another device had written, arriving whole segments at a time over a real connection, once the index is up', async () => {
    const { e: a } = await fresh()
    const { chatId } = await a.createChat({ title: 'shared' })
    await a.start()
    for (let i = 0; i < 600; i++) await a.sendMessage(chatId, i === 17 ? 'the zebra crossing' : `message ${i}`)
    const dir = await mkdtemp(join(tmpdir(), 'tandem-search-b-'))
    dirs.push(dir)
    const b = await createEngine({ dataDir: dir, deviceName: 'phone', network: { listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false } })
    engines.push(b)
    await b.start()
    expect(await b.searchMessages('zebra')).toEqual([]) // (its index is up, and empty: no account yet)
    const bulk = new Promise<void>(resolve => {
      b.subscribe(event => {
        if (event.type === 'messages' && event.count > 256) resolve()
      })
    })
    await linkDevices(a, b)
    b.dial(a.multiaddrs()[0]!)
    await bulk
    expect(texts(await b.searchMessages('zebra'))).toEqual(['the zebra crossing'])
    expect(await b.searchMessages('message', { limit: 1000 })).toHaveLength(599)
  })

  it('refuses bad input with ERR_INVALID_ARGUMENT (and an unknown chat with ERR_UNKNOWN_CHAT)', async () => {
    const { e } = await fresh()
    const { chatId } = await e.createChat({ title: 'c' })
    const bad = [
      () => e.searchMessages(42 as unknown as string),
      () => e.searchMessages('x'.repeat(1025)),
      () => e.searchMessages('x', { limit: 0 }),
      () => e.searchMessages('x', { limit: 1.5 }),
      () => e.searchMessages('x', { limit: '5' as unknown as number }),
      () => e.searchMessages('x', { chatId: 7 as unknown as string }),
      () => e.searchMessages('x', null as unknown as object),
      () => e.exportChat(chatId, { format: 'pdf' as 'json' }),
      () => e.exportChat(chatId, undefined as unknown as { format: 'json' }),
      () => e.exportChat(9 as unknown as string, { format: 'json' })
    ]
    for (const call of bad) await expect(call()).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
    await expect(e.searchMessages('x', { chatId: 'nope' })).rejects.toMatchObject({ code: 'ERR_UNKNOWN_CHAT' })
    await expect(e.exportChat('nope', { format: 'json' })).rejects.toMatchObject({ code: 'ERR_UNKNOWN_CHAT' })
    expect(await e.searchMessages('   ')).toEqual([])
  })
})
