import { type AuthorStanding, UnknownEpochError } from '@tandem/protocol'
import { RelayUnavailableError } from '../errors.js'
import { toHex } from '../util/hex.js'
import { AUTHOR_READ_RETRY_MS, AuthorChainReads } from './author-chain-reads.js'
import type { PeopleHost, SharedChats } from './shared-chats.js'

/**
 * Who may have written a blob of a shared chat: a listed device of a member account (any epoch:
 * the relay serves only listed devices, and a removed account holds no key of epochs after it),
 * or of an account removed since that held the blob's epoch (SharedChats.writers). An author no
 * chain held lists makes the member chains be read again, and the blob waits (UnknownEpochError
 * parks it); after a few reads that reached a relay, it is refused (AuthorChainReads).
 */
export class ChatAuthors {
  private readonly reads: AuthorChainReads

  constructor(
    private readonly host: PeopleHost,
    private readonly chats: Pick<SharedChats, 'keys' | 'writers' | 'chatRelay'>
  ) {
    this.reads = new AuthorChainReads(fn => {
      host.runtime.setTimeout(fn, AUTHOR_READ_RETRY_MS)
    })
  }

  standing(chatId: string, author: Uint8Array, epoch: number): AuthorStanding {
    const ring = this.host.ring()
    if (ring !== null && ring.standing(author, 0) !== 'unknown') return 'listed'
    const record = this.chats.keys.record(chatId)!
    if (this.host.chains.accountOfAuthor(author, record.members) !== null) return 'listed'
    const writers = this.chats.writers(chatId, epoch)
    if (writers.length > record.members.length && this.host.chains.accountOfAuthor(author, writers) !== null) return 'listed'
    // (a member added since the chain was read, or a device it linked since: the blob waits for the chains, or a newer record)
    const me = this.host.accountId()
    const relay = this.chats.chatRelay(chatId)
    const reading = this.reads.ask(
      toHex(author),
      async () => {
        const reads = await Promise.allSettled(writers.filter(m => m !== me).map(m => this.host.chains.fetch(m, relay)))
        return reads.some(r => r.status === 'fulfilled' || !(r.reason instanceof RelayUnavailableError))
      },
      () => {
        this.host.keysChanged()
      }
    )
    if (!reading) return 'unknown'
    throw new UnknownEpochError(`a blob of chat ${chatId} is signed by a device no member chain held lists: the chains are read again`)
  }
}
