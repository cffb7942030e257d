import { join } from 'node:path'
import { createEngine, type Engine } from '@tandem/engine'
import { HistoryStore } from '@tandem/relay'
import { Level } from 'level'
import { afterEach, expect, it } from 'vitest'
import { untilEngine } from '../helpers/until.js'
import { Rig } from '../relay/relay-helpers.js'
import { compactAll, levelDbsUnder, logicalContent, viewsUnder } from './helpers/leveldb-files.js'
import { capitalized, madeUpWords, NeedleScan, runSeed, seededRandom } from './helpers/needles.js'

// Issue 14, "the relay is blind", on disk: a real relay process is given a whole conversation
// (1,000 messages of made-up words, chat titles, a profile name) by a device on a real level
// store, and a device linked later reads all of it back from the relay alone. Then every file
// of the relay's data directory is read as bytes — raw, as LevelDB's logs reassembled, and as
// its tables' blocks decompressed (LevelDB's default snappy compression, which a raw scan
// could not see through) — and again after forcing everything into compressed tables, and as
// every key and value LevelDB itself returns. None of the words, titles, names, message ids or
// Yjs key strings may be there. The same scan finds every one of them in the devices' own
// data directories (which keep plaintext Yjs updates): it can fail.

const rig = new Rig()
const engines: Engine[] = []
afterEach(async () => {
  for (const e of engines.splice(0)) await e.stop()
  await rig.cleanup()
})

/** The Yjs names the account doc and the chat doc write (model/account-doc.ts, model/chat-doc.ts, model/message-log.ts, model/message-annotations.ts). */
const YJS_KEYS = ['profile', 'chats', 'name', 'title', 'createdAt', 'archived', 'muted', 'pinned', 'messages', 'meta', 'createdBy', 'segments']

const COUNT = 1_000

/** Each doc's log on a (stopped) relay's disk: entries, and the snapshot if it has one. */
async function relayLogs(relayDir: string, docIds: string[]): Promise<string[]> {
  const db = new Level<string, Uint8Array>(join(relayDir, 'history'), { keyEncoding: 'utf8', valueEncoding: 'view' })
  const history = await HistoryStore.open(db, { maxBlobBytes: 1 << 26, accountQuotaBytes: 1 << 30, sync: false })
  try {
    const out: string[] = []
    for (const id of docIds) {
      const meta = await history.meta(id)
      out.push(`${id.slice(0, 12)}…: ${meta?.entries ?? 0} entries${meta?.snapshot ? `, a snapshot of ${meta.snapshot.size} B covering ${meta.snapshot.covers}` : ''}`)
    }
    return out
  } finally {
    await history.close()
  }
}

it('a relay that holds a 1,000-message conversation keeps none of its words, titles, names, message ids or Yjs key strings anywhere on its disk', async () => {
  const seed = runSeed()
  console.log(`relay-disk-blind: seed ${seed} (replay with TANDEM_SEED=${seed})`)
  const random = seededRandom(seed)
  const names = madeUpWords(random, 12, 3)
  const vocabulary = madeUpWords(random, 200, 4)
  const unique = madeUpWords(random, COUNT, 5) // one word no other message has, per message
  const pick = (): string => vocabulary[Math.floor(random() * vocabulary.length)]!
  const texts = unique.map(w => `${pick()} ${w} ${pick()} ${pick()}`)
  const firstProfile = [capitalized(names[0]!), capitalized(names[1]!)]
  const profile = [capitalized(names[2]!), capitalized(names[3]!)]
  const titles = [
    [names[4]!, names[5]!],
    [names[6]!, names[7]!],
    [names[8]!, names[9]!]
  ]
  const renamedTo = [names[10]!, names[11]!]

  const relayDir = await rig.dir('relay')
  const relay = await rig.relay(relayDir)
  const [aDir, bDir] = [await rig.dir('a'), await rig.dir('b')]
  const device = async (name: string, dataDir: string): Promise<Engine> => {
    const e = await createEngine({ dataDir, deviceName: name, network: { listen: [], relays: [relay.address] } })
    engines.push(e)
    await e.start()
    return e
  }

  const t0 = performance.now()
  const a = await device('phone', aDir)
  await a.createAccount({ name: firstProfile.join(' '), recovery: false })
  const accountId = a.accountId!
  await a.setProfileName(profile.join(' '))
  const chatIds: string[] = []
  for (const t of titles) chatIds.push((await a.createChat({ title: t.join(' ') })).chatId)
  await a.updateChat(chatIds[0]!, { title: renamedTo.join(' ') })
  const sent = new Set<string>()
  a.subscribe(e => {
    if (e.type === 'status' && e.status === 'sent') for (const id of e.messageIds) sent.add(id)
  })
  // the first chat's 600 messages one at a time, each acknowledged before the next: one log
  // entry each, so that chat passes the relay's snapshot advice (500 entries) and a snapshot is
  // uploaded too; the other two chats' 400 at once (a few uploads of many messages each)
  const SEQUENTIAL = 600
  const ids: string[] = []
  for (let i = 0; i < SEQUENTIAL; i++) {
    const { id } = await a.sendMessage(chatIds[0]!, texts[i]!)
    ids.push(id)
    await untilEngine(a, () => sent.has(id), `message ${i} acknowledged`)
  }
  const rest = await Promise.all(texts.slice(SEQUENTIAL).map((t, i) => a.sendMessage(chatIds[1 + (i % 2)]!, t)))
  ids.push(...rest.map(m => m.id))
  await untilEngine(a, () => ids.every(id => sent.has(id)), 'every message acknowledged', 30_000)

  // a device linked now, with the first one off, gets everything from the relay alone: the relay holds it all
  const b = await device('laptop', bDir)
  const grant = await a.addDevice(b.deviceOffer())
  await a.stop()
  await b.acceptGrant(grant)
  const currentTitles = [renamedTo, titles[1]!, titles[2]!].map(t => t.join(' ')).sort()
  const shown = (): boolean =>
    b.accountInfo?.name === profile.join(' ') &&
    JSON.stringify(
      b
        .listChats()
        .map(c => c.title)
        .sort()
    ) === JSON.stringify(currentTitles) &&
    chatIds.reduce((n, id) => n + b.messageCount(id), 0) === COUNT
  await untilEngine(b, shown, 'the new device shows the whole conversation, from the relay alone', 30_000)
  expect(new Set(chatIds.flatMap(id => b.listMessages(id).map(m => m.text)))).toEqual(new Set(texts))
  await b.stop()
  await relay.stop()
  console.log(`relay-disk-blind: conversation written and read back in ${(performance.now() - t0).toFixed(0)} ms`)

  // a message id is `<segment>.<random hex>`: the random part is what must not show
  const idNeedles = ids.map(id => id.slice(id.indexOf('.') + 1))
  const secret = [...vocabulary, ...unique, ...idNeedles, ...firstProfile, ...profile, ...titles.flat(), ...renamedTo]
  const scan = new NeedleScan([...secret, ...YJS_KEYS])
  /** What a scan of a directory finds: in raw bytes, in LevelDB-decoded bytes, and through LevelDB itself. */
  const scanDir = async (dir: string) => {
    const raw = new Set<string>()
    const decoded = new Set<string>()
    const logical = new Set<string>()
    const views = await viewsUnder(dir)
    // (the files are read before LevelDB opens the database: opening it moves its log into a table)
    for (const v of views) {
      scan.findIn(v.raw, raw)
      if (v.decoded !== null) scan.findIn(v.decoded, decoded)
    }
    for (const db of await levelDbsUnder(dir)) scan.findIn(await logicalContent(db), logical)
    const files = views.map(v => `${v.file.slice(dir.length + 1)} (${v.raw.length} B)`)
    return {
      files,
      raw,
      decoded,
      logical,
      all: new Set([...raw, ...decoded, ...logical]),
      blocks: views.reduce((n, v) => n + v.blocks, 0),
      snappyBlocks: views.reduce((n, v) => n + v.snappyBlocks, 0),
      bytes: views.reduce((n, v) => n + v.raw.length, 0)
    }
  }
  // what the device must show: everything current (an overwritten title or name may be gone from its merged doc)
  const onDevice = [...vocabulary, ...unique, ...idNeedles, ...profile, ...titles.slice(1).flat(), ...renamedTo, ...YJS_KEYS]
  for (const phase of ['as the processes left them', 'after compacting every database into snappy tables']) {
    if (phase !== 'as the processes left them') for (const dir of [relayDir, aDir, bDir]) for (const db of await levelDbsUnder(dir)) await compactAll(db)
    const [onRelay, onA, onB] = [await scanDir(relayDir), await scanDir(aDir), await scanDir(bDir)]
    console.log(
      `relay-disk-blind, ${phase}: relay ${onRelay.bytes} B in ${onRelay.files.length} files [${onRelay.files.join(', ')}], ${onRelay.blocks} table blocks (${onRelay.snappyBlocks} snappy); ` +
        `device a ${onA.bytes} B, ${onA.blocks} table blocks (${onA.snappyBlocks} snappy), ${[...onA.decoded].filter(n => !onA.raw.has(n)).length} needles seen only decoded; ` +
        `device b ${onB.bytes} B, ${onB.blocks} table blocks (${onB.snappyBlocks} snappy)`
    )
    // the relay's disk holds the conversation (sealed), and nothing of it in the clear
    expect(onRelay.bytes).toBeGreaterThan(COUNT * 20)
    expect([...onRelay.all], `found on the relay's disk ${phase}`).toEqual([])
    // the same scan finds every word, name, title, id and key on each device's disk, in each view that should show it
    for (const [label, d] of [
      ['a', onA],
      ['b', onB]
    ] as const) {
      expect(
        onDevice.filter(n => !d.logical.has(n)),
        `missing from device ${label}'s store as LevelDB reads it (${phase})`
      ).toEqual([])
      expect(
        onDevice.filter(n => !d.raw.has(n) && !d.decoded.has(n)),
        `missing from device ${label}'s files (${phase})`
      ).toEqual([])
    }
    if (phase !== 'as the processes left them') {
      // the decoder read through compression: the devices' tables are snappy-compressed, and words hide in them from a raw scan
      expect(onA.snappyBlocks).toBeGreaterThan(0)
      expect([...onA.decoded].filter(n => !onA.raw.has(n)).length).toBeGreaterThan(0)
      expect(onRelay.blocks).toBeGreaterThan(0)
    }
  }
  // what the relay held, read through its own HistoryStore: the busiest chat has a (sealed) snapshot
  const logs = await relayLogs(relayDir, [`account:${accountId}`, ...chatIds.map(id => `chat:${id}:1`)])
  console.log(`relay-disk-blind: the relay's logs: ${logs.join(', ')}`)
  expect(logs[1]).toContain('a snapshot')
}, 90_000)
