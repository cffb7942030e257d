import { randomBytes } from 'node:crypto'
import { MemoryLevel } from 'memory-level'
import { afterEach, describe, expect, it } from 'vitest'
import { STORE_PROTOCOL_VERSION, decodeStoreFrame, encodeStoreFrame, generateAccountKey, signDeviceCertificate, signDeviceList, type StoreFrame } from '@tandem/protocol'
import { createMemoryLinkPair } from '@tandem/transport'
import { LevelAccessRecords } from '../src/access/level-access-records.js'
import { HistoryStore } from '../src/history/history-store.js'
import { createLogger } from '../src/logger.js'
import { RelayMetrics } from '../src/metrics.js'
import { StoreService } from '../src/store-service/store-service.js'

// Who the relay serves (and so who may hold a circuit reservation): StoreService.whenServed.

const cleanups: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {})
})

async function startService(): Promise<StoreService> {
  const db = new MemoryLevel<string, Uint8Array>({ keyEncoding: 'utf8', valueEncoding: 'view' })
  const history = await HistoryStore.open(db, { maxBlobBytes: 1 << 20, accountQuotaBytes: 1 << 24, sync: false })
  const records = await LevelAccessRecords.open(db, { sync: false })
  const service = new StoreService(history, records, new RelayMetrics({ processMetrics: false }), createLogger({ level: 'silent' }))
  cleanups.push(async () => {
    service.stop()
    await records.close()
    await history.close()
  })
  return service
}

/** A device's end of a new /tandem/store stream: frames it received, and a way to send. */
function connect(service: StoreService, peerId: string): { send: (f: StoreFrame) => Promise<void>; frames: StoreFrame[]; closed: Promise<void> } {
  const [device, relay] = createMemoryLinkPair(peerId, '12D3KooWrelay')
  service.addLink(relay)
  const frames: StoreFrame[] = []
  const closed = Promise.withResolvers<void>()
  device.start({ onFrame: b => frames.push(decodeStoreFrame(b)), onError: () => {}, onClose: () => closed.resolve() })
  cleanups.push(async () => {
    device.close()
  })
  return { send: f => device.send(encodeStoreFrame(f)), frames, closed: closed.promise }
}

const account = () => generateAccountKey(n => new Uint8Array(randomBytes(n)))
const entry = (peerId: string) => ({ peerId, name: peerId, createdAt: 1 })
const settled = async <T>(p: Promise<T>): Promise<{ done: boolean; value?: T }> => {
  const marker = Symbol('pending')
  // a promise that is already settled wins the race against a fresh microtask chain
  const v = await Promise.race([p, new Promise<typeof marker>(resolve => setImmediate(() => resolve(marker)))])
  return v === marker ? { done: false } : { done: true, value: v as T }
}

describe('StoreService.whenServed', () => {
  it('waits for the hello of a device its list names, and answers at once from then on', async () => {
    const service = await startService()
    const key = account()
    const waiting = service.whenServed('12D3KooWann', new AbortController().signal)
    expect((await settled(waiting)).done).toBe(false)

    const ann = connect(service, '12D3KooWann')
    await ann.send({
      type: 'hello',
      version: STORE_PROTOCOL_VERSION,
      certificate: signDeviceCertificate(key, entry('12D3KooWann')),
      deviceList: signDeviceList(key, { version: 1, devices: [entry('12D3KooWann')], revoked: [], issuedAt: 1 })
    })
    expect(await waiting).toBe(true)
    expect(await service.isServed('12D3KooWann')).toBe(true)
    expect(await service.whenServed('12D3KooWann', AbortSignal.abort())).toBe(true)
  })

  it('is false when the wait ends first: no session, one that never says hello, a certificate for another peer id', async () => {
    const service = await startService()
    const key = account()
    const gone = new AbortController()
    const nobody = service.whenServed('12D3KooWnobody', gone.signal)
    connect(service, '12D3KooWsilent') // says nothing
    const silent = service.whenServed('12D3KooWsilent', gone.signal)
    const thief = connect(service, '12D3KooWthief')
    await thief.send({ type: 'hello', version: STORE_PROTOCOL_VERSION, certificate: signDeviceCertificate(key, entry('12D3KooWann')), deviceList: null })
    const stolen = service.whenServed('12D3KooWthief', gone.signal)
    gone.abort()
    expect(await Promise.all([nobody, silent, stolen])).toEqual([false, false, false])
  })

  it('serves a certified device only once its account list names it, and no longer once the list revokes it', async () => {
    const service = await startService()
    const key = account()
    const list1 = signDeviceList(key, { version: 1, devices: [entry('12D3KooWann')], revoked: [], issuedAt: 1 })
    const ann = connect(service, '12D3KooWann')
    await ann.send({ type: 'hello', version: STORE_PROTOCOL_VERSION, certificate: signDeviceCertificate(key, entry('12D3KooWann')), deviceList: list1 })

    // bob has a certificate of the account, but its list does not name him yet
    const bob = connect(service, '12D3KooWbob')
    await bob.send({ type: 'hello', version: STORE_PROTOCOL_VERSION, certificate: signDeviceCertificate(key, entry('12D3KooWbob')), deviceList: null })
    const bobServed = service.whenServed('12D3KooWbob', new AbortController().signal)
    expect((await settled(bobServed)).done).toBe(false)
    expect(await service.isServed('12D3KooWbob')).toBe(false)

    // the list that adds him
    await bob.send({
      type: 'device-list',
      list: signDeviceList(key, { version: 2, devices: [entry('12D3KooWann'), entry('12D3KooWbob')], revoked: [], issuedAt: 2 })
    })
    expect(await bobServed).toBe(true)

    // revoked: its stream is closed, and it is not served, however long one waits
    await ann.send({ type: 'device-list', list: signDeviceList(key, { version: 3, devices: [entry('12D3KooWann')], revoked: ['12D3KooWbob'], issuedAt: 3 }) })
    await bob.closed
    expect(bob.frames.at(-1)).toMatchObject({ type: 'error', code: 'ERR_DEVICE_REVOKED' })
    const stopWaiting = new AbortController()
    const later = service.whenServed('12D3KooWbob', stopWaiting.signal)
    stopWaiting.abort()
    expect(await later).toBe(false)
    expect(await service.isServed('12D3KooWbob')).toBe(false)
    expect(await service.isServed('12D3KooWann')).toBe(true)
  })
})
