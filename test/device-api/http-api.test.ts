import { stat } from 'node:fs/promises'
import { afterEach, expect, it } from 'vitest'
import { RemoteClient } from '@tandem/device/remote-client'
import { endpointFile, readEndpoint } from '@tandem/device/token-file'
import type { DeviceProcess } from '../helpers/device-process.js'
import { DEVICE_MAIN } from '../helpers/device-process.js'
import { PromptProcess } from '../helpers/prompt-process.js'
import { runToExit } from '../helpers/run-to-exit.js'
import { Rig } from '../relay/relay-helpers.js'

// `tandem-device --http`: the remote device API of packages/engine/src/remote/remote-api.ts,
// served by a real device process on 127.0.0.1 and called with fetch, as the demo page and
// the subcommands call it.

const rig = new Rig()
afterEach(async () => {
  await rig.cleanup()
})

const PAGE = 'http://127.0.0.1:5173'

async function apiDevice(label: string, extra: string[] = []): Promise<{ device: DeviceProcess; dir: string; url: string; token: string }> {
  const dir = await rig.dir(label)
  const device = rig.device(label, dir, ['--http', '--http-origin', PAGE, ...extra])
  const served = await device.waitForEvent(e => e.event === 'http')
  return { device, dir, url: served.url as string, token: served.token as string }
}

const post = (url: string, body: string, headers: Record<string, string> = {}): Promise<Response> =>
  fetch(`${url}/rpc`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body })

it('serves the engine on 127.0.0.1 to the holder of the token in the data dir (mode 0600), and streams its events', async () => {
  const { dir, url, token } = await apiDevice('laptop')
  expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
  expect(await readEndpoint(dir)).toMatchObject({ url, token })
  expect((await stat(endpointFile(dir))).mode & 0o777).toBe(0o600)

  const client = new RemoteClient(url, token)
  const created = await client.call<{ accountId: string }>('createAccount', { name: 'Alice', recovery: false })
  const info = await client.call<{ accountId: string; account: { name: string } }>('info')
  expect(info.accountId).toBe(created.accountId)
  expect(info.account.name).toBe('Alice')
  const chat = await client.call<{ chatId: string }>('createChat', { title: 'Notes to self' })

  const events: Array<{ type: string } & Record<string, unknown>> = []
  let seen!: (e: unknown) => void
  const arrived = new Promise(resolve => {
    seen = resolve
  })
  const stream = client.events(e => {
    events.push(e)
    if (e.type === 'message') seen(e)
  })
  await stream.ready
  const sent = await client.call<{ id: string; text: string }>('sendMessage', chat.chatId, 'hello over HTTP')
  expect(await arrived).toMatchObject({ type: 'message', chatId: chat.chatId, origin: 'local', message: { id: sent.id, text: 'hello over HTTP' } })
  stream.close()
  expect((await client.call<Array<{ text: string }>>('listMessages', chat.chatId)).map(m => m.text)).toEqual(['hello over HTTP'])

  // EventSource cannot set headers: the token in the query opens the stream too
  const viaQuery = await fetch(`${url}/events?token=${token}`)
  expect(viaQuery.status).toBe(200)
  expect(viaQuery.headers.get('content-type')).toBe('text/event-stream')
  await viaQuery.body?.cancel()
})

it('refuses what it cannot serve with a typed error and a sentence, and keeps serving', async () => {
  const { url, token } = await apiDevice('laptop')
  const auth = { Authorization: `Bearer ${token}` }
  const refused = async (res: Response, status: number, code: string): Promise<string> => {
    expect(res.status).toBe(status)
    const body = (await res.json()) as { error: { code: string; message: string } }
    expect(body.error.code).toBe(code)
    expect(body.error.message).toMatch(/^\S.* .*\S$/) // a sentence, not a stack
    expect(body.error.message).not.toMatch(/\n\s+at /)
    return body.error.message
  }
  const info = JSON.stringify({ method: 'info', args: [] })
  expect(await refused(await post(url, info), 401, 'ERR_UNAUTHORIZED')).toMatch(/token/)
  expect(await refused(await post(url, info, { Authorization: `Bearer ${'0'.repeat(64)}` }), 401, 'ERR_UNAUTHORIZED')).toMatch(/wrong token/)
  expect(await refused(await post(url, info, { Authorization: `Bearer ${token}x` }), 401, 'ERR_UNAUTHORIZED')).toMatch(/wrong token/)
  await refused(await fetch(`${url}/events`), 401, 'ERR_UNAUTHORIZED')
  await refused(await post(url, '{"method": "info", ', auth), 400, 'ERR_INVALID_JSON')
  await refused(await post(url, '[1, 2]', auth), 400, 'ERR_BAD_REQUEST')
  await refused(await post(url, JSON.stringify({ method: 'stop', args: [] }), auth), 400, 'ERR_UNKNOWN_METHOD')
  await refused(await post(url, JSON.stringify({ method: 'constructor', args: [] }), auth), 400, 'ERR_UNKNOWN_METHOD')
  await refused(await post(url, JSON.stringify({ method: 'listChats', args: 'all' }), auth), 400, 'ERR_INVALID_ARGUMENT')
  await refused(await post(url, JSON.stringify({ method: 'sendMessage', args: ['x'.repeat(1 << 20), 'hi'] }), auth), 413, 'ERR_BODY_TOO_LARGE')
  await refused(await fetch(`${url}/rpc`, { headers: auth }), 405, 'ERR_METHOD_NOT_ALLOWED')
  await refused(await fetch(`${url}/admin`, { headers: auth }), 404, 'ERR_NOT_FOUND')
  // the engine's own typed errors, as they are
  await refused(await post(url, JSON.stringify({ method: 'createChat', args: [{ title: 'x' }] }), auth), 409, 'ERR_ENGINE_STATE')
  await post(url, JSON.stringify({ method: 'createAccount', args: [{ name: 'Alice', recovery: false }] }), auth)
  await refused(await post(url, JSON.stringify({ method: 'sendMessage', args: ['no-such-chat', 'hi'] }), auth), 404, 'ERR_UNKNOWN_CHAT')
  await refused(await post(url, JSON.stringify({ method: 'createChat', args: [{ title: 42 }] }), auth), 400, 'ERR_INVALID_ARGUMENT')
  await refused(await post(url, JSON.stringify({ method: 'confirmLink', args: [true] }), auth), 409, 'ERR_ENGINE_STATE')
  await refused(await post(url, JSON.stringify({ method: 'confirmLink', args: ['yes'] }), auth), 400, 'ERR_INVALID_ARGUMENT')

  const still = await post(url, info, auth)
  expect(still.status).toBe(200)
  expect(((await still.json()) as { result: { accountId: string | null } }).result.accountId).toMatch(/\S/)
})

it("lets the demo page's origin call it from a browser, and no other origin", async () => {
  const { url, token } = await apiDevice('laptop')
  const preflight = await fetch(`${url}/rpc`, {
    method: 'OPTIONS',
    headers: { Origin: PAGE, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization, content-type' }
  })
  expect(preflight.status).toBe(204)
  expect(preflight.headers.get('access-control-allow-origin')).toBe(PAGE)
  expect(preflight.headers.get('access-control-allow-headers')).toMatch(/Authorization/)
  const call = await post(url, JSON.stringify({ method: 'info', args: [] }), { Origin: PAGE, Authorization: `Bearer ${token}` })
  expect(call.headers.get('access-control-allow-origin')).toBe(PAGE)
  const other = await post(url, JSON.stringify({ method: 'info', args: [] }), { Origin: 'http://evil.example', Authorization: `Bearer ${token}` })
  expect(other.headers.get('access-control-allow-origin')).toBeNull()
})

it('lets each origin given to --http-origin call it, repeated or separated by commas, answering each its own, and refuses the others', async () => {
  const dir = await rig.dir('laptop')
  const device = rig.device('laptop', dir, ['--http', '--http-origin', 'http://127.0.0.1:4710, http://localhost:4710/', '--http-origin', 'https://chat.example'])
  const { url } = (await device.waitForEvent(e => e.event === 'http')) as unknown as { url: string }
  const allowedTo = async (origin: string): Promise<string | null> => {
    const preflight = await fetch(`${url}/rpc`, { method: 'OPTIONS', headers: { Origin: origin, 'Access-Control-Request-Method': 'POST' } })
    expect(preflight.headers.get('vary')).toBe('Origin')
    return preflight.headers.get('access-control-allow-origin')
  }
  for (const origin of ['http://127.0.0.1:4710', 'http://localhost:4710', 'https://chat.example']) expect(await allowedTo(origin)).toBe(origin)
  for (const origin of ['http://localhost:4711', 'http://chat.example', 'https://evil.example', 'null']) expect(await allowedTo(origin)).toBeNull()
})

it('refuses to start with an --http-origin that is not an origin, in a sentence that says what to give', async () => {
  const dir = await rig.dir('laptop')
  for (const bad of ['localhost:4710', 'http://localhost:4710/app', ',']) {
    const { code, stderr } = await runToExit([DEVICE_MAIN, '--data', dir, '--http', '--http-origin', bad])
    expect(code).not.toBe(0)
    expect(stderr).toMatch(/is not a web origin: give its scheme, host and port only, such as http:\/\/localhost:4710|a web origin such as/)
    expect(stderr).not.toMatch(/\n\s+at /)
  }
})

it('links a new device over the API: the code it shows, the six digits as a link-confirm event on the other, confirmLink(true), and linked', async () => {
  const relay = await rig.relay()
  const laptop = await apiDevice('laptop', ['--relay', relay.address])
  const phone = await apiDevice('phone', ['--relay', relay.address])
  const onLaptop = new RemoteClient(laptop.url, laptop.token)
  const onPhone = new RemoteClient(phone.url, phone.token)
  const { accountId } = await onLaptop.call<{ accountId: string }>('createAccount', { name: 'Alice', recovery: false })

  const phoneEvents: Array<{ type: string } & Record<string, unknown>> = []
  let linked!: () => void
  const phoneLinked = new Promise<void>(resolve => {
    linked = resolve
  })
  const phoneStream = onPhone.events(e => {
    phoneEvents.push(e)
    if (e.type === 'linked') linked()
  })
  let confirm!: (e: Record<string, unknown>) => void
  const asked = new Promise<Record<string, unknown>>(resolve => {
    confirm = resolve
  })
  const laptopStream = onLaptop.events(e => {
    if (e.type === 'link-confirm') confirm(e)
  })
  await Promise.all([phoneStream.ready, laptopStream.ready])

  const code = await onPhone.call<{ text: string; expiresAt: number; qr: { svg: string } }>('showLinkCode')
  expect(code.text).toMatch(/^tandem1-/)
  expect(code.qr.svg).toMatch(/^<svg/)
  const linking = onLaptop.call<{ peerId: string; name: string }>('linkDevice', code.text)
  const question = await asked
  expect(question).toMatchObject({ name: 'phone' })
  expect(question.confirmation).toMatch(/^\d{6}$/)
  await onLaptop.call('confirmLink', true)
  expect(await linking).toMatchObject({ name: 'phone' })
  await phoneLinked
  expect(phoneEvents.find(e => e.type === 'link-confirmation')?.confirmation).toBe(question.confirmation)
  expect((await onPhone.call<{ accountId: string }>('info')).accountId).toBe(accountId)
  phoneStream.close()
  laptopStream.close()
})

it('prints its API address and token as one JSON line with --json, for scripts', async () => {
  const dir = await rig.dir('laptop')
  const device = new PromptProcess(['--data', dir, '--http', '--json'])
  try {
    const { line } = await device.waitLine(/^\{"http":/)
    const printed = JSON.parse(line) as { http: string; token: string }
    expect(await readEndpoint(dir)).toMatchObject({ url: printed.http, token: printed.token })
    expect((await new RemoteClient(printed.http, printed.token).call<{ accountId: null }>('info')).accountId).toBeNull()
  } finally {
    await device.kill()
  }
})
