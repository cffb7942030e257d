import { describe, expect, it } from 'vitest'
import { RelayLiveness } from '../../src/relay/relay-liveness.js'

/** A liveness over a progress map the test moves by hand, with every change it reports. */
function rig() {
  const progress = new Map<string, { caughtUp: boolean }>()
  let connected = true
  const changes: boolean[] = []
  const live = new RelayLiveness(
    progress,
    () => connected,
    l => changes.push(l)
  )
  const answer = (docId: string, entries: number): void => {
    progress.set(docId, { caughtUp: entries === 0 })
    if (entries === 0) live.settled(docId)
    else live.answered(docId)
  }
  const caughtUp = (docId: string): void => {
    progress.set(docId, { caughtUp: true })
    live.settled(docId)
  }
  /** `segment`: a chat's next segment whose chat doc is caught up (served as the chat doc is). */
  const subscribe = (docId: string, segment = false): void => {
    progress.delete(docId)
    live.subscribed(docId, segment)
  }
  return { live, changes, answer, caughtUp, subscribe, disconnect: () => (connected = false) }
}

describe('RelayLiveness', () => {
  it('is live once every doc subscribed on the connection is answered and caught up', () => {
    const r = rig()
    r.subscribe('a')
    r.subscribe('b')
    expect(r.live.isLive).toBe(false)
    r.answer('a', 0)
    r.answer('b', 5)
    expect(r.live.isLive).toBe(false)
    r.caughtUp('b')
    expect(r.live.isLive).toBe(true)
    expect(r.changes).toEqual([true])
  })

  it("stays live while a chat's next segment, first subscribed after that, catches up", () => {
    const r = rig()
    r.subscribe('a')
    r.answer('a', 0)
    r.subscribe('seg-2', true)
    expect(r.live.isLive).toBe(true)
    expect(r.live.joining('seg-2')).toBe(true)
    r.answer('seg-2', 3)
    expect(r.live.isLive).toBe(true)
    r.caughtUp('seg-2')
    expect(r.live.joining('seg-2')).toBe(false)
    expect(r.changes).toEqual([true])
  })

  it('is not live while a new chat catches up (the relay may not hold its membership record yet)', () => {
    const r = rig()
    r.subscribe('a')
    r.answer('a', 0)
    r.subscribe('new-chat')
    expect(r.live.isLive).toBe(false)
    expect(r.live.joining('new-chat')).toBe(false)
    r.answer('new-chat', 0)
    expect(r.changes).toEqual([true, false, true])
  })

  it('is not live while a doc it held before is subscribed again (a refetch)', () => {
    const r = rig()
    r.subscribe('a')
    r.answer('a', 0)
    r.subscribe('a', true)
    expect(r.live.isLive).toBe(false)
    expect(r.live.joining('a')).toBe(false)
    r.answer('a', 2)
    r.caughtUp('a')
    expect(r.changes).toEqual([true, false, true])
  })

  it('starts over on a new connection: what was new on the old one counts until caught up', () => {
    const r = rig()
    r.subscribe('a')
    r.answer('a', 0)
    r.subscribe('seg-2', true)
    r.live.reset()
    r.subscribe('a')
    r.subscribe('seg-2', true)
    expect(r.live.isLive).toBe(false)
    expect(r.live.joining('seg-2')).toBe(false)
    r.answer('a', 0)
    r.answer('seg-2', 0)
    expect(r.live.isLive).toBe(true)
  })

  it('is never live without a connection', () => {
    const r = rig()
    r.subscribe('a')
    r.answer('a', 0)
    r.disconnect()
    expect(r.live.isLive).toBe(false)
  })

  it('does not wait for a doc the relay refused', () => {
    const r = rig()
    r.subscribe('a')
    r.subscribe('refused')
    r.answer('a', 0)
    expect(r.live.isLive).toBe(false)
    r.live.settled('refused')
    expect(r.live.isLive).toBe(true)
  })
})
