import { afterEach, expect, it } from 'vitest'
import { PromptProcess } from '../helpers/prompt-process.js'
import { Rig } from '../relay/relay-helpers.js'

// `tandem-device` at a terminal: the chat client a person uses, driven through its stdin and
// stdout (piped, so not a TTY: it still takes each line). The other side is a --control device.

const rig = new Rig()
const prompts: PromptProcess[] = []
afterEach(async () => {
  for (const p of prompts.splice(0)) await p.kill()
  await rig.cleanup()
})

const prompt = (args: string[]): PromptProcess => {
  const p = new PromptProcess(args)
  prompts.push(p)
  return p
}

it('chats with Bob from the prompt: an invite, his message shown with his name, the chat opened, and the ticks of hers to read; no log lines on the terminal', async () => {
  const relay = await rig.relay()
  const alice = prompt(['--data', await rig.dir('alice'), '--name', 'laptop', '--relay', relay.address])
  alice.type('Alice')
  await alice.waitLine(/^— Notes to self — \(no messages yet\)$/)
  alice.type('/help')
  await alice.waitLine(/^\/open <n> +open chat n/)

  const bob = rig.device('bob', await rig.dir('bob'), ['--relay', relay.address])
  await bob.request('create-account', { name: 'Bob', recovery: false })
  alice.type('/invite')
  const invite = (await alice.waitLine(/^ {2}tandeminvite1-\S+$/)).line.trim()
  const { chatId } = await bob.request<{ chatId: string }>('accept-invite', { text: invite })
  await bob.request('send', { chatId, text: 'hi Alice' })
  await alice.waitLine(/^\[Bob\] \d\d:\d\d Bob: hi Alice$/)

  alice.type('/chats')
  const list = await alice.waitLine(/^ {2}\d\. Bob \(1 unread\) — Bob: hi Alice$/)
  alice.type(`/open ${list.line.trim()[0]}`)
  const opened = await alice.waitLine(/^— Bob —$/, list.index)
  expect((await alice.waitLine(/^\d\d:\d\d Bob: hi Alice$/, opened.index)).index).toBe(opened.index + 1)
  await bob.waitForEvent(e => e.event === 'status' && e.status === 'read' && e.chatId === chatId)

  alice.type('hello Bob')
  const sent = await alice.waitLine(/^\d\d:\d\d you: hello Bob {2}(🕓|✓)$/)
  await alice.waitLine(/^✓✓ delivered: "hello Bob"$/, sent.index)
  const [mine] = (await bob.request<Array<{ id: string; text: string }>>('list-messages', { chatId })).filter(m => m.text === 'hello Bob')
  await bob.request('mark-read', { chatId, messageId: mine!.id })
  await alice.waitLine(/^✓✓ read: "hello Bob"$/, sent.index)
  await bob.request('send', { chatId, text: 'bye' })
  await alice.waitLine(/^\d\d:\d\d Bob: bye$/) // the open chat's messages come without its title

  alice.type('/devices')
  const devices = await alice.waitLine(/^ {4}NAME +PLATFORM +LINKED +LAST ACTIVE +PEER ID$/)
  expect((await alice.waitLine(/^ 1\. laptop +node .*this device +12D3KooW\w+$/, devices.index)).index).toBe(devices.index + 1)
  alice.type('/nope')
  await alice.waitLine(/^\/nope is not a command: \/help lists them\.$/)
  alice.type('/open 9')
  await alice.waitLine(/^tandem-device: there is no chat 9: the list has 2 \(ERR_INVALID_ARGUMENT\)$/)
  alice.type('/quit')
  expect(await alice.exited).toBe(0)
  for (const line of [...alice.stdout, ...alice.stderr]) expect(line).not.toMatch(/^\{"level"/)
})

it('a device that joins an account by link never makes a "Notes to self" of its own: it shows the one the account has', async () => {
  const relay = await rig.relay()
  const laptop = rig.device('laptop', await rig.dir('laptop'), ['--relay', relay.address])
  await laptop.request('create-account', { name: 'Alice', recovery: false })
  const notes = await laptop.request<{ chatId: string }>('create-chat', { title: 'Notes to self' })
  await laptop.request('send', { chatId: notes.chatId, text: 'first note' })

  const phone = prompt(['link', '--data', await rig.dir('phone'), '--name', 'phone', '--relay', relay.address])
  const code = (await phone.waitLine(/^ {2}tandem1-\S+$/)).line.trim()
  await laptop.request('link-device', { code, confirm: 'auto' })
  await phone.waitLine(/^Linked: this device is now a device of account/)
  // its chats come from the account: the note arrives (as a message, or a batch of them)
  await phone.waitLine(/first note|message arrived|messages arrived/)
  phone.type('/chats')
  const listed = await phone.waitLine(/^ {2}1\. /)
  expect(phone.stdout[listed.index]).toBe('  1. Notes to self — you: first note')
  phone.type('/help') // a line after the list: the list has ended
  const after = await phone.waitLine(/^\/chats /, listed.index)
  expect(phone.stdout.slice(listed.index + 1, after.index)).toEqual([])
  expect((await laptop.request<unknown[]>('chats')).length).toBe(1)
})
