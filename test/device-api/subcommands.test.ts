import { execFile } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { promisify } from 'node:util'
import { afterEach, expect, it } from 'vitest'
import { endpointFile } from '@tandem/device/token-file'
import { DEVICE_MAIN, type DeviceProcess } from '../helpers/device-process.js'
import { PromptProcess } from '../helpers/prompt-process.js'
import { Rig } from '../relay/relay-helpers.js'

// `tandem-device chats|send|read|devices|link|revoke|invite|export|status --data <dir>`: real
// commands talking to the real device process running on that data dir, through its --http API.

const rig = new Rig()
afterEach(async () => {
  await rig.cleanup()
})

/** Runs `tandem-device …args` to its exit: its code, stdout and stderr. */
async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [DEVICE_MAIN, ...args], { timeout: 60_000 })
    return { code: 0, stdout, stderr }
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string }
    return { code: e.code, stdout: e.stdout, stderr: e.stderr }
  }
}

const ok = async (...args: string[]): Promise<string> => {
  const r = await cli(...args)
  expect(r.stderr).toBe('')
  expect(r.code).toBe(0)
  return r.stdout
}

async function running(label: string, relay: string): Promise<{ device: DeviceProcess; dir: string }> {
  const dir = await rig.dir(label)
  const device = rig.device(label, dir, ['--relay', relay, '--http'])
  await device.waitForEvent(e => e.event === 'http')
  return { device, dir }
}

it('invites, sends, lists and reads chats on running devices, in sentences and as --json, with the ticks of what was sent', async () => {
  const relay = await rig.relay()
  const alice = await running('alice', relay.address)
  const bob = await running('bob', relay.address)
  const aliceId = (await alice.device.request<{ accountId: string }>('create-account', { name: 'Alice', recovery: false })).accountId
  await bob.device.request('create-account', { name: 'Bob', recovery: false })

  const status = await ok('status', '--data', alice.dir)
  expect(status).toContain(`account  ${aliceId} (Alice)`)
  expect(status).toMatch(/api +http:\/\/127\.0\.0\.1:\d+/)

  const invite = JSON.parse(await ok('invite', '--data', alice.dir, '--json')) as { text: string }
  expect(invite.text).toMatch(/^tandeminvite1-/)
  expect(await ok('invite', '--data', alice.dir)).toMatch(/[▀▄█]\n+ {2}tandeminvite1-\S+\n\nThe other person scans it, or runs: tandem-device invite --accept <the text above>\n$/)
  const opened = JSON.parse(await ok('invite', '--accept', invite.text, '--data', bob.dir, '--json')) as { chatId: string; title: string }
  expect(opened.title).toBe('Alice')

  const sent = await ok('send', 'Alice', 'hello', 'Alice', '--data', bob.dir)
  expect(sent).toMatch(/^(🕓|✓) to Alice: hello Alice\n$/)
  await alice.device.request('wait-messages', { chatId: opened.chatId, count: 1 })
  expect(await ok('chats', '--data', alice.dir)).toBe(`  1. Bob (1 unread) — Bob: hello Alice\n`)
  const chats = JSON.parse(await ok('chats', '--data', alice.dir, '--json')) as Array<{ chatId: string; unreadCount: number }>
  expect(chats.map(c => [c.chatId, c.unreadCount])).toEqual([[opened.chatId, 1]])

  // Alice reads it (that marks it read); Bob's next look shows it read
  expect(await ok('read', '1', '--data', alice.dir)).toMatch(/^— Bob —\n\d\d:\d\d Bob: hello Alice\n$/)
  await bob.device.waitForEvent(e => e.event === 'status' && e.status === 'read' && e.chatId === opened.chatId)
  expect(await ok('read', opened.chatId, '--data', bob.dir)).toMatch(/^— Alice —\n\d\d:\d\d you: hello Alice {2}✓✓ read\n$/)
  const exported = JSON.parse(await ok('export', '--chat', 'Bob', '--format', 'json', '--data', alice.dir)) as { messages: Array<{ text: string }> }
  expect(exported.messages.map(m => m.text)).toEqual(['hello Alice'])
  expect(await ok('devices', '--data', alice.dir)).toMatch(/^NAME +PLATFORM +LINKED +LAST ACTIVE +PEER ID\nalice .*this device/)
})

it('links a new device through the running one (--code, --yes) and revokes it', async () => {
  const relay = await rig.relay()
  const laptop = await running('laptop', relay.address)
  await laptop.device.request('create-account', { name: 'Alice', recovery: false })
  const phone = rig.device('phone', await rig.dir('phone'), ['--relay', relay.address])
  const { text } = await phone.request<{ text: string }>('show-link-code')
  const linked = await ok('link', '--code', text, '--yes', '--data', laptop.dir)
  expect(linked).toMatch(/Six digits: \d{6}\n/)
  expect(linked).toMatch(/Linked "phone" \(12D3\w+\)\.\n$/)
  await phone.waitForEvent(e => e.event === 'linked')
  const phoneId = (await phone.request<{ peerId: string }>('info')).peerId
  expect(await ok('revoke', phoneId, '--data', laptop.dir)).toContain(`Revoked ${phoneId}`)
  await phone.waitForEvent(e => e.event === 'revoked')
})

it('says in one sentence that no device runs there (none started, or one killed), and refuses a chat that is not there', async () => {
  const empty = await rig.dir('empty')
  for (const command of [['chats'], ['send', '1', 'hi'], ['status']]) {
    const r = await cli(...command, '--data', empty)
    expect(r.code).toBe(1)
    expect(r.stdout).toBe('')
    expect(r.stderr).toBe(`tandem-device: no device is running on ${empty} with its API: start it with \`tandem-device --data ${empty} --http\` (ERR_NO_DEVICE)\n`)
  }
  // a device killed without a clean stop leaves its http.json behind, pointing at a closed port
  await writeFile(endpointFile(empty), JSON.stringify({ url: 'http://127.0.0.1:9', token: 'x'.repeat(64), pid: 1 }))
  expect((await cli('chats', '--data', empty)).stderr).toMatch(/no device is running .*\(ERR_NO_DEVICE\)\n$/)

  const relay = await rig.relay()
  const alice = await running('alice', relay.address)
  await alice.device.request('create-account', { name: 'Alice', recovery: false })
  const r = await cli('send', '7', 'hi', '--data', alice.dir)
  expect(r.code).toBe(1)
  expect(r.stderr).toBe('tandem-device: there is no chat 7: the list has 0 (ERR_INVALID_ARGUMENT)\n')
})

it('shows the link code of a running new device and says when the account took it in', async () => {
  const relay = await rig.relay()
  const laptop = rig.device('laptop', await rig.dir('laptop'), ['--relay', relay.address])
  const { accountId } = await laptop.request<{ accountId: string }>('create-account', { name: 'Alice', recovery: false })
  const phone = await running('phone', relay.address)
  const shown = new PromptProcess(['link', '--data', phone.dir])
  try {
    const code = (await shown.waitLine(/^ {2}tandem1-\S+$/)).line.trim()
    await laptop.request('link-device', { code, confirm: 'auto' })
    await shown.waitLine(/^A device is linking this one\. Check that it shows the same six digits: \d{6}$/)
    await shown.waitLine(/^Linked: the running device is now a device of the account; its history is on its way\.$/)
    expect(await shown.exited).toBe(0)
    expect((await phone.device.request<{ accountId: string }>('info')).accountId).toBe(accountId)
  } finally {
    await shown.kill()
  }
})
