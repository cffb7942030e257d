import type { MultiaddrConnection } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { describe, expect, it } from 'vitest'
import { createLogger } from '../src/logger.js'
import { PendingInbound, addressKey } from '../src/node/pending-inbound.js'

const logger = createLogger({ level: 'silent' })

/** What the gater sees of an inbound connection: its remote address and its close event. */
function conn(addr: string): MultiaddrConnection & { close(): void } {
  const events = new EventTarget()
  return Object.assign(events, {
    remoteAddr: multiaddr(addr),
    close: () => events.dispatchEvent(new Event('close'))
  }) as unknown as MultiaddrConnection & { close(): void }
}

describe('pending inbound connections per address', () => {
  it('counts an IPv4 address, an IPv6 /64, and an IPv4-mapped IPv6 address as its IPv4 address', () => {
    expect(addressKey(multiaddr('/ip4/192.0.2.7/tcp/4001'))).toBe('192.0.2.7')
    expect(addressKey(multiaddr('/ip6/2001:db8:0:1::7/tcp/4001'))).toBe('2001:db8:0:1::/64')
    expect(addressKey(multiaddr('/ip6/2001:db8:0:1:ffff:1:2:3/tcp/4001'))).toBe('2001:db8:0:1::/64')
    expect(addressKey(multiaddr('/ip6/2001:db8:0:2::7/tcp/4001'))).toBe('2001:db8:0:2::/64')
    expect(addressKey(multiaddr('/ip6/::ffff:192.0.2.7/tcp/4001'))).toBe('192.0.2.7')
    expect(addressKey(multiaddr('/ip6/::1/tcp/4001'))).toBe('0:0:0:0::/64')
  })

  it("refuses an address's connection beyond its share, and takes it again once one finished its handshake or closed", () => {
    const pending = new PendingInbound(2, logger)
    const [a1, a2, a3, a4] = ['/ip4/10.0.0.1/tcp/1', '/ip4/10.0.0.1/tcp/2', '/ip4/10.0.0.1/tcp/3', '/ip4/10.0.0.1/tcp/4'].map(conn)
    const other = conn('/ip4/10.0.0.2/tcp/1')
    expect([a1, a2, a3].map(c => pending.deny(c!))).toEqual([false, false, true])
    expect(pending.deny(other)).toBe(false) // another address has its own share
    expect(pending.stats()).toEqual({ pending: 3, addressesAtLimit: 1, refused: 1 })

    pending.upgraded(a1!) // its handshake is done: no longer pending
    a1!.close() // and its later close counts nothing twice
    expect(pending.stats()).toMatchObject({ pending: 2, addressesAtLimit: 0 })
    expect(pending.deny(a3!)).toBe(false)
    a2!.close() // a handshake that failed or timed out: the transport aborts the connection
    expect(pending.deny(a4!)).toBe(false)
    expect(pending.stats()).toEqual({ pending: 3, addressesAtLimit: 1, refused: 1 })
  })
})
