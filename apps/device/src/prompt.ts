import { createInterface } from 'node:readline/promises'
import type { Engine } from '@tandem/engine'

/** Interactive mode: a line you type is a message; messages from your other devices print as they arrive. */
export async function runPrompt(engine: Engine, onStop: () => Promise<void>): Promise<void> {
  const rl = createInterface({ input: process.stdin, output: process.stdout })
  if (engine.accountId === null) {
    console.log('No account on this device. To add it to an account you have, stop here and run `tandem-device link`.')
    const created = await engine.createAccount({ name: (await rl.question('Your name, to create a new account: ')).trim() || 'me' })
    console.log(`Your recovery phrase (write it down; it is shown only now):\n  ${created.recoveryPhrase}`)
  }
  console.log(`device ${engine.peerId}\naccount ${engine.accountId}\nlistening on ${engine.multiaddrs().join(' ')}`)
  const chat = engine.listChats()[0] ?? (await engine.createChat({ title: 'Notes to self' }))
  engine.subscribe(e => {
    if (e.type === 'message' && e.origin === 'remote') console.log(`\n[${e.chatId.slice(0, 6)}] ${e.message.text}`)
    if (e.type === 'messages') console.log(`\n[${e.chatId.slice(0, 6)}] ${e.count} messages synced`)
    if (e.type === 'peer') console.log(`\n(${e.status} ${e.peerId})`)
  })
  rl.on('close', () => {
    void onStop()
  })
  for await (const line of rl) {
    if (line.trim() !== '') await engine.sendMessage(chat.chatId, line)
  }
}
