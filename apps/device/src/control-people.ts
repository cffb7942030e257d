import type { Engine } from '@tandem/engine'

/**
 * The `--control` commands for chats between accounts (issue 16), as JSON for tests and scripts:
 * `create-invite` {ttlMs?, qr?} → {text, accountId, relay, expiresAt, qr?}; `accept-invite`
 * {text} → the chat; `contacts` → [{accountId, name, relay, addedAt, chatId}]; `safety-number`
 * {accountId} → "12345 …"; `create-group` {title, members} → the chat; `add-members` {chatId,
 * accountIds} → members; `remove-member` {chatId, accountId} → members; `rename-chat`
 * {chatId, title}; `members` {chatId} → [{accountId, self, name}]; `wait-chat` {chatId} waits
 * until the chat is in this account's list (another account opened it) → the chat. Events:
 * `contacts`, `members` {chatId}, `chats`.
 */
type Command = { cmd: string } & Record<string, unknown>

const badCommand = (message: string): Error => Object.assign(new Error(message), { code: 'ERR_BAD_COMMAND' })

export class PeopleControl {
  /** Commands that wait for another account: they run beside the in-order queue. */
  static readonly BACKGROUND = new Set(['wait-chat'])

  constructor(private readonly engine: Engine) {}

  handles(cmd: string): boolean {
    return COMMANDS.has(cmd)
  }

  async run(c: Command): Promise<unknown> {
    const engine = this.engine
    switch (c.cmd) {
      case 'create-invite': {
        const shown = engine.createInvite(c.ttlMs === undefined ? {} : { ttlMs: Number(c.ttlMs) })
        const { invite } = shown
        return { text: shown.text, accountId: invite.accountId, relay: invite.relay, expiresAt: invite.expiresAt, ...(c.qr === true ? { qr: shown.qr.terminal } : {}) }
      }
      case 'accept-invite':
        return await engine.acceptInvite(text(c, 'text'))
      case 'contacts':
        return engine.listContacts()
      case 'safety-number':
        return engine.safetyNumber(text(c, 'accountId'))
      case 'create-group':
        return await engine.createGroup({ title: text(c, 'title'), members: c.members as string[] })
      case 'add-members':
        return await engine.addMembers(text(c, 'chatId'), c.accountIds as string[])
      case 'remove-member':
        return await engine.removeMember(text(c, 'chatId'), text(c, 'accountId'))
      case 'rename-chat':
        await engine.renameChat(text(c, 'chatId'), text(c, 'title'))
        return null
      case 'members':
        return engine.listMembers(text(c, 'chatId'))
      case 'wait-chat':
        return await waitListed(engine, text(c, 'chatId'))
      default:
        throw badCommand(`unknown command ${c.cmd}`)
    }
  }
}

const COMMANDS = new Set(['create-invite', 'accept-invite', 'contacts', 'safety-number', 'create-group', 'add-members', 'remove-member', 'rename-chat', 'members', 'wait-chat'])

function text(c: Command, k: string): string {
  const v = c[k]
  if (typeof v !== 'string') throw badCommand(`${c.cmd}: "${k}" must be a string`)
  return v
}

/** Resolves with the chat once this account lists it (checked now and at every change of the chat list). */
function waitListed(engine: Engine, chatId: string): Promise<unknown> {
  return new Promise(resolve => {
    const check = (): boolean => {
      const chat = engine.listChats().find(x => x.chatId === chatId)
      if (chat === undefined) return false
      off()
      resolve(chat)
      return true
    }
    const off = engine.subscribe(e => {
      if (e.type === 'chats') check()
    })
    check()
  })
}
