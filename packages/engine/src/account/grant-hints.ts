import { type ChatHint, chatDocId, MAX_CHAT_HINTS, MAX_HINT_CHAT_ID_BYTES, MAX_SEGMENT_INDEX, parseDocId } from '@tandem/protocol'
import { InvalidArgumentError } from '../errors.js'

/** A grant's chat hints (absent: none), or ERR_INVALID_ARGUMENT naming what is wrong with them. */
export function checkedHints(hints: unknown): ChatHint[] {
  if (hints === undefined) return []
  if (!Array.isArray(hints) || hints.length > MAX_CHAT_HINTS) throw new InvalidArgumentError(`a grant's hints are an array of at most ${MAX_CHAT_HINTS} chats`)
  return hints.map((h: Partial<ChatHint> | null) => {
    const chatId = h?.chatId
    const segment = h?.segment
    if (typeof chatId !== 'string' || parseDocId(chatDocId(chatId))?.kind !== 'chat' || chatId.length > MAX_HINT_CHAT_ID_BYTES)
      throw new InvalidArgumentError(`a grant hints at a chat id that is none: ${String(chatId).slice(0, 80)}`)
    if (!Number.isSafeInteger(segment) || segment! < 0 || segment! > MAX_SEGMENT_INDEX)
      throw new InvalidArgumentError(`a grant hints at segment ${String(segment)} of chat ${chatId}`)
    return { chatId, segment: segment! }
  })
}
