import type { Engine } from '@tandem/engine'

/**
 * The `--control` commands for the message lifecycle and the chat list, as JSON for tests
 * and scripts: `reply` {chatId, text, replyTo} → the message; `mark-read` {chatId, messageId};
 * `set-draft` {chatId, text}; `delete-for-me` {chatId, messageId}; `typing` {chatId, on};
 * `present` {chatId, on}; `presence` {chatId} → the devices heard from. The events `typing`
 * {chatId, account, device, typing} and `presence` {chatId, account, device, online, lastSeen}
 * are written as they come (control.ts).
 */
type Command = { cmd: string } & Record<string, unknown>

const COMMANDS = new Set(['reply', 'mark-read', 'set-draft', 'delete-for-me', 'typing', 'present', 'presence'])

export const handlesChatCommand = (cmd: string): boolean => COMMANDS.has(cmd)

/** Runs one of these commands; arguments go to the engine as given, so its own checks answer bad ones (ERR_INVALID_ARGUMENT). */
export async function runChatCommand(engine: Engine, c: Command): Promise<unknown> {
  const chatId = c.chatId as string
  switch (c.cmd) {
    case 'reply':
      return await engine.sendMessage(chatId, c.text as string, { replyTo: c.replyTo as string })
    case 'mark-read':
      await engine.markRead(chatId, c.messageId as string)
      return null
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
