import type { CircuitRelayService, RelayReservation } from '@libp2p/circuit-relay-v2'
import type { PeerId } from '@libp2p/interface'

type Signal = RelayReservation['signal']

export interface ReservationKeeper {
  /** Frees a device's slot now (its last connection to the relay closed); false if it held none. */
  drop(peer: PeerId): boolean
  /** Clears every expiry timer (the relay is stopping). */
  stop(): void
}

/**
 * Makes the circuit relay server's reservations last as long as their holders keep them.
 *
 * 1. Expiry. The server (@libp2p/circuit-relay-v2 4.2) times each reservation with a
 *    retimeable-signal 1.0.1 signal and `reset()`s it on every refresh. That reset arms the
 *    new timeout with a listener the next reset cannot remove, so from the second refresh on
 *    the previous deadline still fires: a device that refreshes every 55 minutes (5 minutes
 *    before the 1 h TTL) lost its slot 5 minutes after its second refresh, and every circuit
 *    to it, and stayed unreachable for 50 minutes until its next refresh (the canary shows the
 *    same at a 3 s TTL). Every browser device depends on its reservation to be reached at
 *    all. Each reservation's timer is therefore kept here: the library's own is disarmed
 *    when the reservation is created (the one moment it can be), and `reset()` / `clear()`
 *    move or stop this one. At expiry the library's reset is armed at 0, which aborts the
 *    signal the library's way (the store forgets the reservation, circuits to the device are
 *    reset). A canary test in packages/relay/test/reservations.test.ts says when upstream is
 *    fixed.
 * 2. Disconnect. The server keeps a reservation until it expires even when its holder is gone,
 *    but serves circuits only to a device that is connected, and a device reserves again when
 *    it reconnects. Browser tabs and phones come and go, so slots held for an hour by devices
 *    that left would fill `maxReservations`; `drop()` frees the slot when the last connection
 *    closes, which keeps the number of reservations at or under the number of connections.
 */
export function keepReservations(relay: CircuitRelayService, ttlMs: number): ReservationKeeper {
  const reservations = relay.reservations
  const timers = new Map<Signal, ReturnType<typeof setTimeout>>()
  const adopted = new WeakSet<Signal>()

  const disarm = (signal: Signal): void => {
    clearTimeout(timers.get(signal))
    timers.delete(signal)
  }

  const adopt = (reservation: RelayReservation): void => {
    const signal = reservation.signal
    adopted.add(signal)
    const libraryReset = signal.reset.bind(signal)
    signal.clear() // the library's timer: removable only before its first reset
    const arm = (ms: number): void => {
      disarm(signal)
      // with the library's timer gone, its reset(0) arms a fresh one that aborts the signal now
      const timer = setTimeout(() => {
        timers.delete(signal)
        libraryReset(0)
      }, ms)
      // like the library's AbortSignal.timeout, a reservation does not keep the process alive
      timer.unref?.()
      timers.set(signal, timer)
    }
    signal.reset = (ms?: number) => {
      arm(ms ?? ttlMs)
    }
    signal.clear = () => {
      disarm(signal)
    }
    arm(Math.max(0, reservation.expiry.getTime() - Date.now()))
  }

  const set = reservations.set.bind(reservations)
  const remove = reservations.delete.bind(reservations)
  const clear = reservations.clear.bind(reservations)
  reservations.set = (peer: PeerId, reservation: RelayReservation): void => {
    const before = reservations.get(peer)
    if (before !== undefined && before !== reservation) disarm(before.signal)
    if (!adopted.has(reservation.signal)) adopt(reservation)
    set(peer, reservation)
  }
  reservations.delete = (peer: PeerId): boolean => {
    const r = reservations.get(peer)
    if (r !== undefined) disarm(r.signal)
    return remove(peer)
  }
  reservations.clear = (): void => {
    for (const timer of timers.values()) clearTimeout(timer)
    timers.clear()
    clear()
  }

  return {
    drop: peer => reservations.delete(peer),
    stop: () => {
      for (const timer of timers.values()) clearTimeout(timer)
      timers.clear()
    }
  }
}
