import type { Engine } from '@tandem/engine'

/**
 * The `--control` commands for the message lifecycle and the chat list, as JSON for tests
 * and scripts: `reply` {chatId, text, replyTo} → the message; `mark-read` {chatId, messageId}
 * → {at}: when it was called (ms since the epoch, sub-ms); `wait-read` {chatId, messageId} →
 * {at}: when this device's chat list first showed the account read up to that message (the
 * bench's read-tick latency: two processes on one machine share the clock); `set-draft` {chatId, text}; `delete-for-me` {chatId, messageId}; `typing` {chatId, on};
 * `present` {chatId, on}; `presence` {chatId} → the devices heard from. The events `typing`
 * {chatId, account, device, typing} and `presence` {chatId, account, device, online, lastSeen}
 * are written as they come (control.ts).
 */
type Command = { cmd: string } & Record<string, unknown>

const COMMANDS = new Set(['reply', 'mark-read', 'wait-read', 'set-draft', 'delete-for-me', 'typing', 'present', 'presence'])

/** Commands that wait for another device: they run beside the in-order queue. */
export const BACKGROUND_CHAT_COMMANDS = new Set(['wait-read'])

/** Wall-clock ms with the sub-ms part (Date.now() has whole ms). */
const preciseNow = (): number => performance.timeOrigin + performance.now()

export const handlesChatCommand = (cmd: string): boolean => COMMANDS.has(cmd)

/** Runs one of these commands; arguments go to the engine as given, so its own checks answer bad ones (ERR_INVALID_ARGUMENT). */
export async function runChatCommand(engine: Engine, c: Command): Promise<unknown> {
  const chatId = c.chatId as string
  switch (c.cmd) {
    case 'reply':
      return await engine.sendMessage(chatId, c.text as string, { replyTo: c.replyTo as string })
    case 'mark-read': {
      const at = preciseNow()
      await engine.markRead(chatId, c.messageId as string)
      return { at }
    }
    case 'wait-read':
      return await waitRead(engine, chatId, c.messageId as string)
    case 'set-draft':
      await engine.setDraft(chatId, c.text as string)
      return null
    case 'delete-for-me':
      await engine.deleteForMe(chatId, c.messageId as string)
      return null
    case 'typing':
      engine.setTyping(chatId, c.on as boolean)
      return null
    case 'present':
      engine.setPresent(chatId, c.on as boolean)
      return null
    default:
      return engine.presence(chatId)
  }
}

/** Resolves with the time this device's chat list first shows the chat read up to `messageId`. */
function waitRead(engine: Engine, chatId: string, messageId: string): Promise<{ at: number }> {
  const readUpTo = (): string | null => engine.listChats().find(c => c.chatId === chatId)?.readUpTo ?? null
  return new Promise(resolve => {
    const check = (): void => {
      if (readUpTo() !== messageId) return
      off()
      resolve({ at: preciseNow() })
    }
    const off = engine.subscribe(e => {
      if (e.type === 'chats') check()
    })
    check()
  })
}
