import { afterEach, expect, it } from 'vitest'
import type { DeviceEvent, DeviceProcess } from '../helpers/device-process.js'
import { levelDbsUnder, logicalContent, viewsUnder } from '../e2e/helpers/leveldb-files.js'
import { capitalized, madeUpWords, NeedleScan, runSeed, seededRandom } from '../e2e/helpers/needles.js'
import { Rig } from '../relay/relay-helpers.js'

// Issue 16 with real processes: a relay, Alice with two devices, Bob with two, Carol with one,
// each a `tandem-device --control` process. Alice invites Bob; their 1:1 chat shows on all
// four devices. A group of three: Carol is added and then removed, and gets nothing written
// after. The relay's data directory, read as bytes, holds none of their words or names.

const rig = new Rig()
afterEach(async () => {
  await rig.cleanup()
})

interface Dump {
  chats: Array<{ chatId: string; title: string; messages: Array<{ id: string; text: string; status: string }> }>
}

const textsIn = async (d: DeviceProcess, chatId: string): Promise<string[]> =>
  ((await d.request<Dump>('dump')).chats.find(c => c.chatId === chatId)?.messages ?? []).map(m => m.text)

it('Alice (2 devices), Bob (2) and Carol (1) as processes: a 1:1 chat on all four devices, a group that removes Carol, and a relay disk without a word of it', async () => {
  const seed = runSeed()
  console.log(`people-processes: seed ${seed} (replay with TANDEM_SEED=${seed})`)
  const random = seededRandom(seed)
  const words = madeUpWords(random, 16, 4)
  const [aliceName, bobName, carolName, groupTitle] = [capitalized(words[0]!), capitalized(words[1]!), capitalized(words[2]!), capitalized(words[3]!)]
  const say = (i: number): string => `${words[4 + i * 2]} ${words[5 + i * 2]}`

  const relayDir = await rig.dir('relay')
  const relay = await rig.relay(relayDir)
  const dirs: string[] = []
  const device = async (label: string): Promise<DeviceProcess> => {
    const dir = await rig.dir(label)
    dirs.push(dir)
    return rig.device(label, dir, ['--relay', relay.address])
  }
  const [alice1, alice2, bob1, bob2, carol] = [await device('alice1'), await device('alice2'), await device('bob1'), await device('bob2'), await device('carol')]
  const made = async (first: DeviceProcess, name: string, ...others: DeviceProcess[]): Promise<string> => {
    const { accountId } = await first.request<{ accountId: string }>('create-account', { name, recovery: false })
    for (const o of others) await o.joinVia(first)
    return accountId
  }
  const aliceId = await made(alice1, aliceName, alice2)
  const bobId = await made(bob1, bobName, bob2)
  const carolId = await made(carol, carolName)

  // the invite: shown on Alice's phone, accepted on Bob's laptop
  const invite = await alice1.request<{ text: string; accountId: string }>('create-invite', { qr: true })
  expect(invite.accountId).toBe(aliceId)
  const direct = await bob2.request<{ chatId: string; title: string }>('accept-invite', { text: invite.text })
  expect(direct.title).toBe(aliceName)
  await bob2.request('send', { chatId: direct.chatId, text: say(0) })
  await alice2.request('wait-messages', { chatId: direct.chatId, count: 1 })
  await alice2.request('send', { chatId: direct.chatId, text: say(1) })
  for (const d of [alice1, alice2, bob1, bob2]) {
    await d.request('wait-messages', { chatId: direct.chatId, count: 2 })
    expect(await textsIn(d, direct.chatId)).toEqual([say(0), say(1)])
  }
  const safety = await alice1.request<string>('safety-number', { accountId: bobId })
  expect(await bob1.request<string>('safety-number', { accountId: aliceId })).toBe(safety)
  expect((await alice2.request<Array<{ accountId: string }>>('contacts')).map(c => c.accountId)).toEqual([bobId])

  // a group: Alice makes it with Bob, Bob adds Carol, Alice removes her
  const group = await alice1.request<{ chatId: string }>('create-group', { title: groupTitle, members: [bobId] })
  await bob1.request('wait-chat', { chatId: group.chatId })
  await bob1.request('add-members', { chatId: group.chatId, accountIds: [carolId] })
  await carol.request('wait-chat', { chatId: group.chatId })
  await carol.request('send', { chatId: group.chatId, text: say(2) })
  for (const d of [alice1, alice2, bob1, bob2]) await d.request('wait-messages', { chatId: group.chatId, count: 1 })
  const members = await alice1.request<string[]>('remove-member', { chatId: group.chatId, accountId: carolId })
  expect(members.sort()).toEqual([aliceId, bobId].sort())
  await carol.waitForEvent((e: DeviceEvent) => e.event === 'error' && e.code === 'ERR_ACCESS_DENIED')
  await alice2.request('send', { chatId: group.chatId, text: say(3) })
  for (const d of [alice1, alice2, bob1, bob2]) {
    await d.request('wait-messages', { chatId: group.chatId, count: 2 })
    expect(await textsIn(d, group.chatId)).toEqual([say(2), say(3)])
  }
  expect(await textsIn(carol, group.chatId)).toEqual([say(2)])

  // every process off: the relay's files hold none of the words, names or the group's title; a device's files hold them (the scan can fail)
  for (const d of [alice1, alice2, bob1, bob2, carol]) await d.stop()
  await relay.stop()
  const scan = new NeedleScan([...words, ...words.map(capitalized)])
  const found = async (dir: string): Promise<Set<string>> => {
    const into = new Set<string>()
    for (const v of await viewsUnder(dir)) {
      scan.findIn(v.raw, into)
      if (v.decoded !== null) scan.findIn(v.decoded, into)
    }
    for (const db of await levelDbsUnder(dir)) scan.findIn(await logicalContent(db), into)
    return into
  }
  expect([...(await found(relayDir))], "found on the relay's disk").toEqual([])
  const onAlice = await found(dirs[0]!)
  expect([aliceName, groupTitle, ...[0, 1, 2, 3].flatMap(i => say(i).split(' '))].filter(w => !onAlice.has(w))).toEqual([])
}, 180_000)
