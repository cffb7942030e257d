import type { ChatService } from '../chat/chat-service.js'
import { InvalidArgumentError, UnknownChatError } from '../errors.js'
import { buildChatExport, type ExportFormat, type ExportNames } from './chat-export.js'
import { renderChatHtml } from './html-export.js'

export interface ExportOptions {
  format: ExportFormat
}

/**
 * A chat's every message (each segment read in turn, from disk or a relay when it is not in
 * memory), in display order, as JSON text (`ChatExport`) or as a self-contained HTML page.
 */
export async function exportChat(chats: ChatService, chatId: string, options: ExportOptions, context: { names: ExportNames; now: number }): Promise<string> {
  if (typeof chatId !== 'string') throw new InvalidArgumentError('chatId must be a chat id')
  if (typeof options !== 'object' || options === null || (options.format !== 'json' && options.format !== 'html'))
    throw new InvalidArgumentError("an export's format is 'json' or 'html': exportChat(chatId, { format: 'html' })")
  const chat = chats.listChats().find(c => c.chatId === chatId)
  if (chat === undefined) throw new UnknownChatError(chatId)
  const data = buildChatExport(chat, await chats.allMessages(chatId), context.names, context.now)
  return options.format === 'json' ? `${JSON.stringify(data, null, 2)}\n` : renderChatHtml(data)
}
