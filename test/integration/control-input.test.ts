import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DeviceProcess } from '../helpers/device-process.js'

// `tandem-device --control` answers every line, and stores nothing it was not given as it should be.

let dir: string
let device: DeviceProcess
const lines: string[] = []

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tandem-control-'))
  device = DeviceProcess.start('control', ['--data', dir, '--name', 'control'])
  createInterface({ input: device.child.stdout! }).on('line', line => {
    lines.push(line)
  })
  await device.request('create-account', { name: 'Ann', recovery: false })
})

afterAll(async () => {
  await device?.stop()
  await rm(dir, { recursive: true, force: true })
})

const refusal = async (cmd: string, args: Record<string, unknown>): Promise<string | undefined> =>
  await device.request(cmd, args).then(
    () => undefined,
    (err: { code?: string }) => err.code
  )

describe('the control protocol', () => {
  it('answers a line that is JSON but no command (null, [], a number) and goes on serving', async () => {
    for (const raw of ['null', '[]', '7', '{"id":41}']) device.child.stdin!.write(`${raw}\n`)
    const info = await device.request<{ accountId: string }>('info')
    expect(info.accountId).not.toBeNull()
    const answers = lines.map(l => JSON.parse(l) as { ok?: boolean; id?: number; error?: { code: string } }).filter(l => l.ok === false)
    expect(answers.map(a => a.error?.code)).toEqual(['ERR_BAD_COMMAND', 'ERR_BAD_COMMAND', 'ERR_BAD_COMMAND', 'ERR_BAD_COMMAND'])
    expect(answers[3]!.id).toBe(41)
  })

  it('refuses arguments of the wrong type instead of storing "undefined" or "[object Object]"', async () => {
    expect(await refusal('create-chat', {})).toBe('ERR_BAD_COMMAND')
    expect(await device.request<unknown[]>('chats')).toEqual([])
    const { chatId } = await device.request<{ chatId: string }>('create-chat', { title: 'notes' })
    expect(await refusal('send', { chatId, text: { a: 1 } })).toBe('ERR_BAD_COMMAND')
    expect(await refusal('send', { chatId, text: '' })).toBe('ERR_INVALID_ARGUMENT')
    const dump = await device.request<{ chats: Array<{ messages: unknown[] }> }>('dump')
    expect(dump.chats[0]!.messages).toEqual([])
  })

  it('lists the newest messages and waits for a newest message (list-messages, wait-newest)', async () => {
    const { chatId } = await device.request<{ chatId: string }>('create-chat', { title: 'newest' })
    const sent: string[] = []
    for (const text of ['one', 'two', 'three']) sent.push((await device.request<{ id: string }>('send', { chatId, text })).id)
    const newest = await device.request<Array<{ id: string; text: string }>>('list-messages', { chatId, limit: 1 })
    expect(newest.map(m => m.text)).toEqual(['three'])
    expect((await device.request<unknown[]>('list-messages', { chatId })).length).toBe(3)
    expect(await device.request<number>('wait-newest', { chatId, messageId: sent[2] })).toBe(3)
    expect(await refusal('wait-newest', { chatId })).toBe('ERR_BAD_COMMAND')
  })

  it('prints only the events watch names, refuses a watch list that is not names, and prints them all again after a plain watch', async () => {
    const { chatId } = await device.request<{ chatId: string }>('create-chat', { title: 'watched' })
    const eventsAfter = (from: number): string[] =>
      lines
        .slice(from)
        .map(l => JSON.parse(l) as { event?: string })
        .flatMap(l => (l.event === undefined ? [] : [l.event]))
    expect(await refusal('watch', { events: 'message' })).toBe('ERR_BAD_COMMAND')
    expect(await refusal('watch', { events: [1] })).toBe('ERR_BAD_COMMAND')
    await device.request('watch', { events: ['message'] })
    let from = lines.length
    await device.request('send', { chatId, text: 'only messages' })
    await device.request('info') // the chat list's event comes a turn after the send's answer
    expect(eventsAfter(from)).toEqual(['message'])
    await device.request('watch')
    from = lines.length
    await device.request('send', { chatId, text: 'everything' })
    await device.request('info')
    expect(eventsAfter(from)).toEqual(expect.arrayContaining(['message', 'chats']))
  })

  it('refuses to revoke a peer id that is not a device of the account, and revokes nothing', async () => {
    expect(await refusal('revoke', { peerId: '12D3KooWtypo' })).toBe('ERR_INVALID_ARGUMENT')
    const dump = await device.request<{ revoked: string[] }>('dump')
    expect(dump.revoked).toEqual([])
  })
})
