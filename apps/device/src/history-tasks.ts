import { writeFile } from 'node:fs/promises'
import type { Engine, ExportFormat, Message } from '@tandem/engine'
import { say } from './say.js'

/**
 * `tandem-device export --chat <id> --format html|json --out <file>`: the chat's every
 * message (older segments read from disk, or fetched from the relay if they never came) in
 * one file; without --out, to standard output.
 */
export async function exportToFile(engine: Engine, chatId: string, format: ExportFormat, out: string | undefined): Promise<void> {
  const text = await engine.exportChat(chatId, { format })
  if (out === undefined) {
    process.stdout.write(text)
    return
  }
  await writeFile(out, text)
  const count = engine.messageCount(chatId)
  say(`Exported chat ${chatId} (${count} ${count === 1 ? 'message' : 'messages'}) as ${format.toUpperCase()} to ${out}.`)
}

/** `tandem-device search <words…>`: the messages holding every word, newest first, one line each. */
export async function searchToTerminal(engine: Engine, query: string, chatId: string | undefined, limit: number | undefined): Promise<void> {
  const found = await engine.searchMessages(query, { ...(chatId === undefined ? {} : { chatId }), ...(limit === undefined ? {} : { limit }) })
  if (found.length === 0) {
    say(`No message holds ${JSON.stringify(query)}.`)
    return
  }
  say(found.map(formatHit).join('\n'))
}

const formatHit = (m: Message): string => `${new Date(m.timestamp.wall).toISOString()}  ${m.chatId}  ${m.id}  ${m.text.replace(/\s+/g, ' ')}`
