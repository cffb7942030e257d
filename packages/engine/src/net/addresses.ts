import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { describeListenFailure } from '@tandem/transport'
import { InvalidArgumentError, ListenError } from '../errors.js'

// Addresses and dial failures as the libp2p network reads them.

/** A failure to start listening, typed, in one sentence (see describeListenFailure). */
export function listenError(err: unknown): ListenError {
  return new ListenError(describeListenFailure(err), { cause: err })
}

/**
 * The peer id that answered a dial in place of the one the address named, or null for any
 * other failure. (Noise's UnexpectedPeerError reaches us wrapped by the upgrader as an
 * EncryptionFailedError that keeps only its message.)
 */
export function otherPeerAnswered(err: unknown): string | null {
  const message = String((err as Error)?.message ?? '')
  return /identity key (\S+) does not match expected remote identity key/.exec(message)?.[1] ?? null
}

/** The relay of a circuit address (`…/p2p/<relay>/p2p-circuit/p2p/<peer>`), undefined for a direct one. */
export function circuitRelayOf(ma: Multiaddr): string | undefined {
  const parts = ma.getComponents()
  const circuit = parts.findIndex(c => c.name === 'p2p-circuit')
  if (circuit < 0) return undefined
  return parts.slice(0, circuit).findLast(c => c.name === 'p2p')?.value
}

/** A device's or relay's address: a multiaddr ending in /p2p/<a valid peer id>, or ERR_INVALID_ARGUMENT saying what is wrong. */
export function peerAddress(address: unknown, what: 'relay' | 'peer'): Multiaddr {
  if (typeof address !== 'string') throw new InvalidArgumentError(`a ${what} address must be a multiaddr string`)
  let ma: Multiaddr
  try {
    ma = multiaddr(address)
  } catch (err) {
    throw new InvalidArgumentError(`${address} is not a multiaddr: ${(err as Error).message}`)
  }
  const id = ma.getComponents().findLast(c => c.name === 'p2p')?.value
  if (id === undefined) throw new InvalidArgumentError(`the ${what} address ${address} has no /p2p/<peer id>: ask for the full address (the relay prints it at start)`)
  try {
    peerIdFromString(id)
  } catch (err) {
    throw new InvalidArgumentError(`the ${what} address ${address} names no valid peer id: ${(err as Error).message}`)
  }
  return ma
}

export function peerIdOf(ma: Multiaddr): string {
  const id = ma.getComponents().findLast(c => c.name === 'p2p')?.value
  if (id === undefined) throw new TypeError(`multiaddr ${ma.toString()} has no /p2p/<peer id>`)
  return id
}
