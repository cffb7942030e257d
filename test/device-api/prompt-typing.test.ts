import { afterEach, expect, it } from 'vitest'
import { PromptProcess } from '../helpers/prompt-process.js'
import { Rig } from '../relay/relay-helpers.js'

// The chat prompt at a real terminal (a pseudo-terminal, util-linux `script`): while Bob, a
// --control device, types in the open chat, Alice's prompt says so, and the line she is typing
// stays as it was; it stops when he stops, or vanishes. Her typing reaches him the same way. Her keys and what the prompt draws are
// read as they are, escape sequences and all.

const rig = new Rig()
const prompts: PromptProcess[] = []
afterEach(async () => {
  for (const p of prompts.splice(0)) await p.kill()
  await rig.cleanup()
})

/** readline drawing its prompt line again: back to the first column, the rest cleared, then the prompt and the line. */
const redrawn = (promptAndLine: string): RegExp => new RegExp(`\\x1b\\[0J${promptAndLine.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`)

it('at a terminal, the prompt says "Bob is typing…" while he types in the open chat, without touching the line being typed, and stops when he stops or vanishes; her own keys say she types', async () => {
  const relay = await rig.relay()
  const alice = new PromptProcess(['--data', await rig.dir('alice'), '--name', 'laptop', '--relay', relay.address], { tty: true })
  prompts.push(alice)
  await alice.waitRaw(/Your name, to create a new account: /)
  alice.keys('Alice\r')
  await alice.waitRaw(/Type \/help for the commands/)

  const bob = rig.device('bob', await rig.dir('bob'), ['--relay', relay.address])
  const { accountId: bobId } = await bob.request<{ accountId: string }>('create-account', { name: 'Bob', recovery: false })
  await bob.request('watch', {})
  alice.keys('/invite\r')
  const invite = (await alice.waitRaw(/tandeminvite1-[0-9a-z-]+(?=\r\n)/)).text
  const { chatId } = await bob.request<{ chatId: string }>('accept-invite', { text: invite })
  await bob.request('send', { chatId, text: 'hi Alice' })
  await alice.waitRaw(/Bob: hi Alice/)
  alice.keys('/open Bob\r')
  const opened = await alice.waitRaw(/— Bob —/)

  // half a line typed; Bob types: the prompt says so, her half line drawn again after it
  alice.keys('see you')
  await alice.waitRaw(/see you/, opened.end)
  // and her keys say she types, to Bob
  const aliceTypes = (on: boolean) => (e: Record<string, unknown>) => e.event === 'typing' && e.chatId === chatId && e.account !== bobId && e.typing === on
  await bob.waitForEvent(aliceTypes(true))
  await bob.request('typing', { chatId, on: true })
  const typing = await alice.waitRaw(redrawn('Bob is typing… > see you'), opened.end)
  // a message arriving meanwhile goes above the line being typed, which is drawn again below it
  await bob.request('send', { chatId, text: 'one more thing' })
  const arrived = await alice.waitRaw(/Bob: one more thing\r\n/, typing.end)
  await alice.waitRaw(redrawn('Bob is typing… > see you'), arrived.end)
  await bob.request('typing', { chatId, on: false })
  const stopped = await alice.waitRaw(redrawn('> see you'), arrived.end)
  expect(alice.raw.slice(stopped.index)).not.toMatch(/typing…/)

  // the line was never touched: the rest of it typed and Enter send it whole
  alice.keys(' soon\r')
  await bob.waitForEvent(e => e.event === 'message' && (e.message as { text?: string })?.text === 'see you soon')
  await bob.waitForEvent(aliceTypes(false))

  // Bob types, and his device vanishes: the prompt stops saying so within the presence timeout
  await bob.request('typing', { chatId, on: true })
  const again = await alice.waitRaw(redrawn('Bob is typing… > '), stopped.end)
  await bob.kill()
  await alice.waitRaw(redrawn('> '), again.end, 60_000)
  alice.keys('/quit\r')
  expect(await alice.exited).toBe(0)
})
