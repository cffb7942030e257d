import { MAX_INVITE_NAME_BYTES, type SignedMembership, truncateUtf8 } from '@tandem/protocol'
import type * as Y from 'yjs'
import type { PeopleDoc } from '../model/people-doc.js'
import type { PeopleHost } from './shared-chats.js'

/**
 * What a shared chat's doc says of names, copied into this account's list: the chat's title
 * (`meta.title`, set by any member), and each member account's display name (the `names`
 * map: account id → name, written by that account's devices when it opens or joins the chat).
 * The names travel in the chat doc, so they are sealed under the chat's keys like its
 * messages: the relay never reads them. That is how the inviting side learns the name of the
 * account that accepted (an invite carries only the inviter's): the other member of a 1:1
 * chat becomes a contact with that name, and the chat takes it as its title here. Any member
 * could write any key of the map, so only a 1:1 chat's other member's name is used: no third
 * account is there to write it.
 */
export class ChatNames {
  constructor(
    private readonly host: PeopleHost,
    private readonly people: () => PeopleDoc,
    /** The chat's newest record; null when the chat is not shared. */
    private readonly record: (chatId: string) => SignedMembership | null
  ) {}

  /** Writes this account's display name into a shared chat's doc (nothing when it is there already, or the account has none). */
  writeOwn(doc: Y.Doc): void {
    const name = truncateUtf8(this.host.accountName(), MAX_INVITE_NAME_BYTES)
    const names = doc.getMap<string>('names')
    const me = this.host.accountId()
    if (name === '' || names.get(me) === name) return
    doc.transact(() => {
      names.set(me, name)
    }, this.host.local)
  }

  /** Follows a shared chat doc's title and its other member's name (a 1:1 chat) into this account's list, from now on. */
  follow(chatId: string, doc: Y.Doc): void {
    const meta = doc.getMap('meta')
    const names = doc.getMap<unknown>('names')
    const follow = (): void => {
      const record = this.record(chatId)
      const account = this.host.accountDoc()
      const entry = account.getChat(chatId)
      if (record === null || entry === null) return
      const title = meta.get('title')
      const other = this.otherOfTwo(record)
      const name = other === null ? null : names.get(other)
      const otherName = typeof name === 'string' ? truncateUtf8(name, MAX_INVITE_NAME_BYTES) : ''
      const newTitle = typeof title === 'string' && title !== '' ? title : entry.title === '' ? otherName : ''
      const people = this.people()
      const contact = other === null ? null : people.contact(other)
      const namesContact = other !== null && otherName !== '' && (contact === null || contact.name === '')
      if ((newTitle === '' || newTitle === entry.title) && !namesContact) return
      account.doc.transact(() => {
        if (newTitle !== '' && newTitle !== entry.title) account.updateChat(chatId, { title: newTitle })
        if (namesContact) people.putContact({ accountId: other!, name: otherName, relay: '', chatId: contact === null ? chatId : '', addedAt: this.host.runtime.now() })
      }, this.host.local)
    }
    meta.observe(follow)
    names.observe(follow)
    follow()
  }

  /** The other account of a chat of two, or null. */
  private otherOfTwo(record: SignedMembership): string | null {
    if (record.members.length !== 2) return null
    const me = this.host.accountId()
    return record.members.find(m => m !== me) ?? null
  }
}
