import {
  checkInviteExpiry,
  DEFAULT_INVITE_TTL_MS,
  formatInviteText,
  type Invite,
  InvalidInviteError,
  MAX_INVITE_NAME_BYTES,
  MAX_INVITE_TTL_MS,
  parseInviteText,
  renderInviteQr,
  safetyNumber,
  truncateUtf8,
  isAccountId
} from '@tandem/protocol'
import { InvalidArgumentError } from '../errors.js'
import type { ChatEntry } from '../model/account-doc.js'
import type { Contact } from '../model/people-doc.js'
import type { PeopleHost, SharedChats } from './shared-chats.js'

/** An invite this account shows: the value, and its text and QR forms. */
export interface ShownInvite {
  invite: Invite
  /** "tandeminvite1-…": to paste or type. */
  text: string
  /** The QR code for a terminal (half blocks) and as SVG. */
  qr: { terminal: string; svg: string }
}

/**
 * Invites and contacts (issue 16). An invite names this account, its account key of the
 * newest generation this device writes in, and the relay the chat will live on (this device's
 * first relay). Accepting one reads the inviter's chain from that relay, checks the key against
 * it, and opens a 1:1 chat: the accepting account makes it, so the inviter need not be online.
 */
export class Invites {
  constructor(
    private readonly host: PeopleHost,
    private readonly shared: SharedChats,
    /** The relay an invite names (a multiaddr with its /p2p/ id), or null when this device has none. */
    private readonly relayAddress: () => string | null
  ) {}

  createInvite(options: { ttlMs?: number } = {}): ShownInvite {
    const ttl = options?.ttlMs ?? DEFAULT_INVITE_TTL_MS
    if (!Number.isSafeInteger(ttl) || ttl < 1000 || ttl > MAX_INVITE_TTL_MS)
      throw new InvalidArgumentError(`an invite lives 1 s to ${MAX_INVITE_TTL_MS / 86_400_000} days, not ${String(ttl)} ms`)
    const relay = this.relayAddress()
    if (relay === null) throw new InvalidArgumentError('this device has no relay: an invite names the relay the chat will live on')
    const self = this.shared.selfRecipient()
    const invite: Invite = {
      accountId: self.account,
      generation: self.generation,
      accountKey: self.accountKey,
      relay,
      name: truncateUtf8(this.host.accountName(), MAX_INVITE_NAME_BYTES),
      expiresAt: Math.floor((this.host.runtime.now() + ttl) / 1000) * 1000
    }
    return { invite, text: formatInviteText(invite), qr: { terminal: renderInviteQr(invite, 'terminal'), svg: renderInviteQr(invite, 'svg') } }
  }

  /**
   * Accepts an invite (its text, or the QR payload): the inviter becomes a contact and a 1:1
   * chat opens on both accounts' devices. The chat lives on the relay the invite names, which
   * need not be one of this account's: every device of it reaches that relay from then on
   * (the chat's record of its relay is in the account doc). ERR_INVALID_INVITE,
   * ERR_INVITE_EXPIRED, ERR_INVALID_ARGUMENT (an invite of this account itself).
   */
  async acceptInvite(text: string): Promise<ChatEntry> {
    if (typeof text !== 'string') throw new InvalidArgumentError('an invite is text')
    const invite = parseInviteText(text)
    checkInviteExpiry(invite, this.host.runtime.now())
    if (invite.accountId === this.host.accountId()) throw new InvalidArgumentError('this is an invite of this account itself')
    const existing = this.shared.peopleDoc().contact(invite.accountId)
    if (existing !== null && existing.chatId !== '' && this.host.accountDoc().getChat(existing.chatId) !== null) return this.host.accountDoc().getChat(existing.chatId)!
    // the key in the invite must be the account's, as its chain (which the account id founds) says
    await this.host.chains.fetch(invite.accountId, invite.relay)
    const onChain = this.host.chains.accountKey(invite.accountId, invite.generation)
    if (onChain === null || !equal(onChain, invite.accountKey))
      throw new InvalidInviteError(`invite: its key is not the account key of generation ${invite.generation} of account ${invite.accountId}`)
    const latest = this.host.chains.latestAccountKey(invite.accountId)!
    const contact = { accountId: invite.accountId, name: invite.name, relay: invite.relay }
    return await this.shared.openChat([{ account: invite.accountId, generation: latest.generation, accountKey: latest.accountKey }], invite.name, '', contact, invite.relay)
  }

  listContacts(): Contact[] {
    return this.shared.peopleDoc().listContacts()
  }

  /** The safety number of this account and `accountId`: 60 digits, the same on both sides (protocol/invite/safety-number.ts). */
  safetyNumber(accountId: string): string {
    if (!isAccountId(accountId)) throw new InvalidArgumentError('a safety number is with an account id')
    if (accountId === this.host.accountId()) throw new InvalidArgumentError('a safety number is with another account')
    return safetyNumber(this.host.accountId(), accountId)
  }
}

const equal = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i])
