import { chatDocId } from '@tandem/protocol'
import { expect, it } from 'vitest'
import type { RelayClient } from '../src/relay/relay-client.js'
import { RelayClients } from '../src/replication/relay-clients.js'

// One client per relay, whatever names it: a host without libp2p (the simulator) names its
// home relay by address, and a shared chat's relay comes as an address from an invite. Keyed
// apart, the same relay got a second client that never connected (people simulation, seed 20261128).

const RELAY_PEER = '12D3KooWPHuC5JDV6HemoiHouxJ2eKDoiemYCASwZ49MKNYXZLtU'
const RELAY_ADDRESS = `/ip4/127.0.0.1/tcp/4001/p2p/${RELAY_PEER}`

async function clientsWith(home: string[], chatRelay: string): Promise<{ clients: RelayClients; loaded: string[] }> {
  const loaded: string[] = []
  // (the registry only keys and routes clients: each is an object naming its relay)
  const clients = new RelayClients(
    async relayId => {
      loaded.push(relayId)
      return { relayId, routesChanged() {}, stop() {} } as unknown as RelayClient
    },
    () => {}
  )
  clients.chatRelays = { relayOf: chatId => (chatId === 'shared' ? chatRelay : null), all: () => [chatRelay] }
  await clients.start(home, [])
  await clients.routesChanged()
  return { clients, loaded }
}

it('keeps one client for a home relay named by address and a chat relay at the same address', async () => {
  const { clients, loaded } = await clientsWith([RELAY_ADDRESS], RELAY_ADDRESS)
  expect(loaded).toEqual([RELAY_PEER])
  expect([...clients.all()]).toHaveLength(1)
  expect(clients.get(RELAY_ADDRESS)).toBe(clients.get(RELAY_PEER))
  expect(clients.relaysFor(chatDocId('shared'))).toEqual([clients.get(RELAY_PEER)])
  expect(clients.addressOf(RELAY_PEER)).toBe(RELAY_ADDRESS)
})

it('keeps one client for a home relay named by id and a chat relay given by its address', async () => {
  const { clients, loaded } = await clientsWith([RELAY_PEER], RELAY_ADDRESS)
  expect(loaded).toEqual([RELAY_PEER])
  expect(clients.relaysFor(chatDocId('shared'))).toEqual([clients.get(RELAY_PEER)])
})
