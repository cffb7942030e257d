// (14) Between accounts (issue 16): a relay, Alice with two devices and Bob with two, as
// processes that reach each other only through the relay (`--no-direct`; devices `--no-sync`
// as in the latency section, the relay fsyncs every commit). Alice's phone sends into their
// 1:1 chat, one message at a time: how long until Bob's phone shows it; how long after that
// Alice's laptop shows it delivered (Bob's devices raise their account's delivered watermark
// in the chat doc; it travels back through the relay); then Bob's phone marks it read, and
// how long until Alice's laptop shows it read.
import { createInterface } from 'node:readline'
import { DEVICE_MAIN, DeviceProcess } from '@tandem/device/device-process'
import { RelayProcess } from '@tandem/device/relay-process'
import { tempDir } from '../proc.js'
import { nodeArgs } from '../systems.js'
import { median, percentile } from '../stats.js'
import { messageText } from '../text.js'

export interface Spread {
  p50: number
  p99: number
  max: number
}

export interface PeopleResult {
  count: number
  /** ms from the bench writing Alice's phone's `send` to Bob's phone's `message` event reaching the bench (two pipe crossings in it: `pipeRttMs`). */
  send: Spread
  /** ms from Bob's phone's `message` event to Alice's laptop's `status` delivered event, both as they reached the bench. */
  delivered: Spread
  /** ms from the bench writing Bob's phone's `mark-read` to Alice's laptop's `status` read event reaching the bench. */
  read: Spread
  /** Median round trip of a no-op command over a device's control pipe. */
  pipeRttMs: number
  samples: { send: number[]; delivered: number[]; read: number[] }
}

/**
 * When each event of a device process reached this process (performance.now()), keyed
 * `message <text>` or `<status> <message id>`; read from the process's stdout beside its own
 * reader, so the time is taken as the line arrives, whoever waits for it.
 */
class EventTimes {
  private readonly seen = new Map<string, { at: number; id?: string }>()
  private readonly waiting = new Map<string, (v: { at: number; id?: string }) => void>()

  constructor(d: DeviceProcess) {
    createInterface({ input: d.child.stdout! }).on('line', line => {
      const at = performance.now()
      if (!line.startsWith('{"event":')) return
      const e = JSON.parse(line) as { event: string; status?: string; messageIds?: string[]; message?: { id: string; text: string } }
      if (e.event === 'message' && e.message !== undefined) this.note(`message ${e.message.text}`, { at, id: e.message.id })
      else if (e.event === 'status') for (const id of e.messageIds ?? []) this.note(`${e.status} ${id}`, { at })
    })
  }

  /** When the event happened (now or later; bounded). */
  when(key: string, timeoutMs = 10_000): Promise<{ at: number; id?: string }> {
    const seen = this.seen.get(key)
    if (seen !== undefined) return Promise.resolve(seen)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(key)
        reject(new Error(`${key}: not seen within ${timeoutMs} ms`))
      }, timeoutMs)
      this.waiting.set(key, v => {
        clearTimeout(timer)
        resolve(v)
      })
    })
  }

  private note(key: string, v: { at: number; id?: string }): void {
    if (this.seen.has(key)) return
    this.seen.set(key, v)
    this.waiting.get(key)?.(v)
    this.waiting.delete(key)
  }
}

const spread = (xs: number[]): Spread => ({ p50: percentile(xs, 50), p99: percentile(xs, 99), max: Math.max(...xs) })
const round2 = (x: number): number => Math.round(x * 100) / 100

export async function benchPeople(count: number, warmup = 20): Promise<PeopleResult> {
  const relay = await RelayProcess.start(await tempDir('people-relay'), [], undefined, undefined, nodeArgs('relay'))
  const devices: DeviceProcess[] = []
  try {
    const device = async (label: string): Promise<DeviceProcess> => {
      const args = ['--data', await tempDir(`people-${label}`), '--name', label, '--relay', relay.address, '--no-direct', '--no-sync']
      const d = DeviceProcess.start(label, args, ['node', ...nodeArgs(label), DEVICE_MAIN])
      devices.push(d)
      await d.request('watch')
      return d
    }
    const [alicePhone, aliceLaptop, bobPhone, bobLaptop] = [await device('alice-phone'), await device('alice-laptop'), await device('bob-phone'), await device('bob-laptop')]
    await alicePhone.request('create-account', { name: 'Alice', recovery: false })
    await aliceLaptop.joinVia(alicePhone)
    await bobPhone.request('create-account', { name: 'Bob', recovery: false })
    await bobLaptop.joinVia(bobPhone)
    const invite = await alicePhone.request<{ text: string }>('create-invite')
    const { chatId } = await bobPhone.request<{ chatId: string }>('accept-invite', { text: invite.text })
    for (const d of [alicePhone, aliceLaptop, bobLaptop]) await d.request('wait-chat', { chatId }, 30_000)
    const [onBob, onBobLaptop, onLaptop, onPhone] = [new EventTimes(bobPhone), new EventTimes(bobLaptop), new EventTimes(aliceLaptop), new EventTimes(alicePhone)]
    const samples = { send: [] as number[], delivered: [] as number[], read: [] as number[] }
    for (let i = 0; i < warmup + count; i++) {
      const text = `#${i} ${messageText(14, i)}`.slice(0, 100)
      const t0 = performance.now()
      const { id } = await alicePhone.request<{ id: string }>('send', { chatId, text })
      const received = await onBob.when(`message ${text}`)
      const delivered = await onLaptop.when(`delivered ${id}`)
      const t3 = performance.now()
      await bobPhone.request('mark-read', { chatId, messageId: id })
      const read = await onLaptop.when(`read ${id}`)
      // the rest of this message's traffic ends before the next one starts
      await Promise.all([onBobLaptop.when(`message ${text}`), onPhone.when(`read ${id}`)])
      if (i < warmup) continue
      samples.send.push(round2(received.at - t0))
      samples.delivered.push(round2(delivered.at - received.at))
      samples.read.push(round2(read.at - t3))
    }
    const rtts: number[] = []
    for (let i = 0; i < 50; i++) {
      const t0 = performance.now()
      await bobPhone.request('info')
      rtts.push(performance.now() - t0)
    }
    return { count, send: spread(samples.send), delivered: spread(samples.delivered), read: spread(samples.read), pipeRttMs: round2(median(rtts)), samples }
  } finally {
    await Promise.all(devices.map(d => d.stop()))
    await relay.stop()
  }
}
