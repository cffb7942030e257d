import type { Engine } from '@tandem/engine'
import { formatChats, formatMessage, type Names, pickChat, TICKS } from './cli/chat-view.js'
import { formatDevices } from './devices.js'
import { linkNewDevice } from './link-existing.js'
import { describeError, say } from './say.js'
import type { Terminal } from './terminal.js'

const HELP = `/chats             the chats, numbered
/open <n>          open chat n (or give its title): its newest messages, and your lines go there
/invite            an invite (QR and text) for someone to chat with you
/accept <invite>   accept someone's invite: a chat with them opens
/devices           this account's devices, numbered
/link <code>       link the new device that shows this code (compare the six digits)
/revoke <n>        revoke device n of /devices for good
/quit              stop (Ctrl-D too)
Your own messages show ${TICKS.pending} on this device, ${TICKS.sent} sent (on the relay), ${TICKS.delivered} delivered, ${TICKS.read} read.`

/** How many messages `/open` shows: a screenful. */
const SCREEN = 10

/** The prompt's slash commands, and a plain line sent to the open chat. A failure is one sentence; the prompt goes on. */
export class PromptCommands {
  openChat: string | null = null

  constructor(
    private readonly engine: Engine,
    private readonly term: Terminal,
    private readonly names: () => Names,
    private readonly onStop: () => Promise<void>,
    /** Called when another chat is opened (the prompt's typing line follows it). */
    private readonly onOpen: () => void = () => {}
  ) {}

  async run(line: string): Promise<void> {
    if (line === '') return
    try {
      if (!line.startsWith('/')) return await this.send(line)
      const [command, ...rest] = line.split(/\s+/)
      const arg = rest.join(' ')
      switch (command) {
        case '/help':
          return say(HELP)
        case '/chats':
          return say(formatChats(this.engine.listChats(), this.names()))
        case '/open':
          return this.open(pickChat(this.engine.listChats(), this.need(arg, '/open <n>')).chatId)
        case '/invite': {
          const shown = this.engine.createInvite()
          return say(`${shown.qr.terminal}\n  ${shown.text}\n\nThe other person scans it, or types: /accept <the text above>`)
        }
        case '/accept': {
          const chat = await this.engine.acceptInvite(this.need(arg, '/accept <invite>'))
          return this.open(chat.chatId)
        }
        case '/devices':
          return say(
            formatDevices(this.engine.listDevices())
              .split('\n')
              .map((row, i) => `${i === 0 ? '   ' : String(i).padStart(2)}. ${row}`.replace(/^ {3}\. /, '    '))
              .join('\n')
          )
        case '/link':
          await linkNewDevice(this.engine, this.term, this.need(arg, '/link <code>'))
          return
        case '/revoke':
          return await this.revoke(this.need(arg, '/revoke <n>'))
        case '/quit':
          return await this.onStop()
        default:
          return say(`${command} is not a command: /help lists them.`)
      }
    } catch (err) {
      say(describeError(err))
    }
  }

  /** Opens a chat: its title and newest messages; the newest is marked read. */
  open(chatId: string): void {
    this.openChat = chatId
    this.onOpen()
    const chat = this.engine.listChats().find(c => c.chatId === chatId)
    const messages = this.engine.listMessages(chatId, { limit: SCREEN })
    const names = this.names()
    say(`— ${chat?.title ?? chatId} —${messages.length === 0 ? ' (no messages yet)' : ''}`)
    for (const m of messages) say(formatMessage(m, names))
    const newest = messages.at(-1)
    if (newest !== undefined) void this.engine.markRead(chatId, newest.id).catch(() => {})
  }

  private async send(text: string): Promise<void> {
    if (this.openChat === null) return say('No chat is open: /chats lists them, /open <n> opens one.')
    const m = await this.engine.sendMessage(this.openChat, text)
    say(formatMessage(m, this.names()))
  }

  private async revoke(ref: string): Promise<void> {
    const devices = this.engine.listDevices()
    const n = Number(ref)
    const device = Number.isSafeInteger(n) ? devices[n - 1] : devices.find(d => d.peerId === ref)
    if (device === undefined) return say(`There is no device ${ref}: /devices lists them.`)
    await this.engine.revokeDevice(device.peerId)
    say(`Revoked "${device.name}" (${device.peerId}): it can no longer read or write this account, and erases it when it learns.`)
  }

  private need(arg: string, usage: string): string {
    if (arg === '') throw Object.assign(new Error(`usage: ${usage}`), { code: 'ERR_INVALID_ARGUMENT' })
    return arg
  }
}
