import { afterAll, expect, it } from 'vitest'
import { Rig } from './relay-helpers.js'

const rig = new Rig()
afterAll(() => rig.cleanup())

interface Info {
  peerId: string
  multiaddrs: string[]
  peers: string[]
}

it('two devices that may not dial each other directly open /tandem/sync through the relay circuit and sync', async () => {
  const relay = await rig.relay()
  // --no-direct: a connection gater refuses every dial that is not to the relay or through its circuit
  const a = rig.device('a', await rig.dir('a'), ['--relay', relay.address, '--no-direct'])
  await a.request('create-account', { name: 'Ann', recovery: false })
  const { chatId } = await a.request<{ chatId: string }>('create-chat', { title: 'circuit' })
  const b = rig.device('b', await rig.dir('b'), ['--relay', relay.address, '--no-direct'])
  await b.joinVia(a)
  const [infoA, infoB] = await Promise.all([a.request<Info>('info'), b.request<Info>('info')])

  // a sync session between the two devices opens: the only path is the relay's circuit
  await a.waitForEvent(e => e.event === 'peer' && e.peerId === infoB.peerId && e.status === 'connected', 30_000)
  await b.waitForEvent(e => e.event === 'peer' && e.peerId === infoA.peerId && e.status === 'connected', 30_000)
  // each is reachable at a circuit address on the relay (its reservation)
  const addrsA = (await a.request<Info>('info')).multiaddrs
  expect(addrsA.some(m => m.includes(`/p2p/${relay.peerId}/p2p-circuit/p2p/${infoA.peerId}`))).toBe(true)

  await a.request('burst', { chatId, prefix: 'via-circuit', count: 200, concurrency: 4 })
  await b.request('wait-messages', { chatId, count: 200 }, 30_000)
  await b.request('send', { chatId, text: 'reply' })
  await a.request('wait-messages', { chatId, count: 201 }, 30_000)
  expect((await b.request<Info>('info')).peers).toContain(infoA.peerId)
})
