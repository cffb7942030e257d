import { writeFile } from 'node:fs/promises'
import { createInterface } from 'node:readline'
import type { Engine, EngineEvent } from '@tandem/engine'
import { LinkControl } from './control-linking.js'
import { PeopleControl } from './control-people.js'
import { BACKGROUND_CHAT_COMMANDS, handlesChatCommand, runChatCommand } from './control-chats.js'
import { grantFromJson, grantToJson, offerFromJson, offerToJson } from './grant-json.js'
import { dumpState } from './state-dump.js'

/**
 * `--control` mode: one JSON command per stdin line, one JSON line per reply
 * or event on stdout. Replies carry the command's `id`. This is how tests,
 * scripts and the `npm start` launcher drive a real device process.
 */
type Command = { id?: number; cmd: string } & Record<string, unknown>

/** Commands that may wait a long time run beside the in-order queue. */
const BACKGROUND = new Set(['wait-messages', 'wait-newest', 'burst'])

const write = (obj: unknown): void => {
  process.stdout.write(`${JSON.stringify(obj)}\n`)
}
const badCommand = (message: string): Error => Object.assign(new Error(message), { code: 'ERR_BAD_COMMAND' })

/**
 * `watch` {events?}: message events from now on; with `events` (engine event names), only
 * those events are printed from then on. A script that reads two kinds of line need not be
 * sent, and wake for, every other (the bench's latency and throughput devices: each line is
 * a write to a pipe and a read in the reader, ~40 µs of the sender's 1.6 ms a message).
 */
function eventsWanted(c: Command): Set<string> | null {
  if (c.events === undefined) return null
  if (!Array.isArray(c.events) || !c.events.every(e => typeof e === 'string')) throw badCommand('watch: "events" must be a list of event names')
  return new Set(c.events)
}

export function runControl(engine: Engine, onStop: () => Promise<void>): void {
  let watching = false
  let printed: Set<string> | null = null
  const linking = new LinkControl(engine, write)
  const people = new PeopleControl(engine)
  engine.subscribe((event: EngineEvent) => {
    if (printed !== null && !printed.has(event.type)) return
    if (event.type === 'message' && watching) write({ event: 'message', chatId: event.chatId, origin: event.origin, message: event.message })
    else if (event.type === 'messages' && watching) write({ event: 'messages', chatId: event.chatId, origin: event.origin, count: event.count, segment: event.segment })
    else if (event.type === 'message-changed') write({ event: 'message-changed', chatId: event.chatId, messageIds: event.messageIds, change: event.change, origin: event.origin })
    else if (event.type === 'history') write({ event: 'history', chatId: event.chatId, segmentsFetched: event.segmentsFetched, segments: event.segments })
    else if (event.type === 'peer') write({ event: 'peer', peerId: event.peerId, status: event.status })
    else if (event.type === 'refused') write({ event: 'refused', peerId: event.peerId, code: event.error.code, message: event.error.message })
    else if (event.type === 'error') write({ event: 'error', message: event.error.message, code: (event.error as { code?: string }).code })
    else if (event.type === 'repaired') write({ event: 'repaired', docId: event.docId, chatId: event.chatId })
    else if (event.type === 'status') write({ event: 'status', chatId: event.chatId, messageIds: event.messageIds, status: event.status, account: event.account })
    else if (event.type === 'typing' || event.type === 'presence') write({ ...event, event: event.type, type: undefined })
    else if (event.type === 'progress')
      write({
        event: 'progress',
        entriesDone: event.entriesDone,
        entriesTotal: event.entriesTotal,
        bytesDone: event.bytesDone,
        bytesTotal: event.bytesTotal,
        caughtUp: event.caughtUp
      })
    else if (event.type === 'revoked') write({ event: 'revoked', accountId: event.accountId })
    else if (event.type === 'rejected')
      write({ event: 'rejected', docId: event.docId, chatId: event.chatId, code: event.error.code, message: event.error.message, waiting: event.waiting, total: event.total })
    else if (event.type === 'ephemeral') write({ event: 'ephemeral', docId: event.docId, from: event.from, payload: Buffer.from(event.payload).toString('base64') })
    else if (event.type === 'relay') write({ event: 'relay', relay: event.relay, connected: event.connected, code: (event.error as { code?: string } | undefined)?.code })
    else if (event.type === 'contacts' || event.type === 'chats') write({ event: event.type })
    else if (event.type === 'members') write({ event: 'members', chatId: event.chatId })
  })
  const handle = async (c: Command): Promise<unknown> => {
    if (c.cmd === 'watch') {
      printed = eventsWanted(c)
      watching = true
      return null
    }
    if (linking.handles(c.cmd)) return await linking.run(c)
    if (people.handles(c.cmd)) return await people.run(c)
    if (handlesChatCommand(c.cmd)) return await runChatCommand(engine, c)
    return await run(engine, c, onStop)
  }
  let queue: Promise<unknown> = Promise.resolve()
  const rl = createInterface({ input: process.stdin })
  rl.on('line', line => {
    let command: Command
    try {
      command = JSON.parse(line) as Command
    } catch {
      write({ ok: false, error: { code: 'ERR_BAD_COMMAND', message: 'not JSON' } })
      return
    }
    // every line is answered: `null`, `[]` or `{}` too (a `null` line used to end the process)
    if (typeof command !== 'object' || command === null || Array.isArray(command) || typeof command.cmd !== 'string') {
      const id = typeof command === 'object' && command !== null && !Array.isArray(command) ? command.id : undefined
      write({ id, ok: false, error: { code: 'ERR_BAD_COMMAND', message: 'a command is a JSON object with a string "cmd"' } })
      return
    }
    const go = (): Promise<unknown> => handle(command)
    const background =
      BACKGROUND.has(command.cmd) || LinkControl.BACKGROUND.has(command.cmd) || PeopleControl.BACKGROUND.has(command.cmd) || BACKGROUND_CHAT_COMMANDS.has(command.cmd)
    if (!background) queue = queue.then(go, go)
    const done = background ? go() : queue
    done.then(
      result => {
        write({ id: command.id, ok: true, result })
      },
      (err: Error & { code?: string }) => {
        write({ id: command.id, ok: false, error: { code: err.code ?? 'ERR_INTERNAL', message: err.message } })
      }
    )
  })
  rl.on('close', () => {
    void onStop()
  })
}

async function run(engine: Engine, c: Command, onStop: () => Promise<void>): Promise<unknown> {
  /** A string argument as given: anything else is refused, never stored as "undefined" or "[object Object]". */
  const str = (k: string): string => {
    const v = c[k]
    if (typeof v !== 'string') throw badCommand(`${c.cmd}: "${k}" must be a string`)
    return v
  }
  switch (c.cmd) {
    case 'info':
      return { peerId: engine.peerId, accountId: engine.accountId, multiaddrs: engine.multiaddrs(), peers: engine.connectedPeers(), relays: engine.relayStatus() }
    case 'revoke':
      await engine.revokeDevice(str('peerId'))
      return null
    case 'create-account':
      return await engine.createAccount({ name: str('name'), recovery: c.recovery !== false })
    case 'device-offer':
      return offerToJson(engine.deviceOffer())
    case 'add-device':
      return grantToJson(await engine.addDevice(offerFromJson(c.offer)))
    case 'accept-grant':
      return await engine.acceptGrant(grantFromJson(c.grant))
    case 'devices':
      return engine.listDevices()
    case 'rename-device':
      await engine.renameDevice(str('peerId'), str('name'))
      return null
    case 'create-chat':
      return await engine.createChat({ title: str('title') })
    case 'chats':
      return engine.listChats()
    case 'send':
      return await engine.sendMessage(str('chatId'), str('text'))
    case 'send-ephemeral':
      return await engine.sendEphemeral(str('chatId'), new Uint8Array(Buffer.from(str('payload'), 'base64')))
    case 'burst':
      return await burst(engine, str('chatId'), burstTexts(c), Number(c.concurrency ?? 1), c.quiet === true)
    case 'dial':
      engine.dial(str('addr'))
      return null
    case 'wait-messages':
      return await waitMessages(engine, str('chatId'), Number(c.count))
    case 'list-messages':
      return engine.listMessages(str('chatId'), { ...(c.limit === undefined ? {} : { limit: Number(c.limit) }), ...(c.before === undefined ? {} : { before: str('before') }) })
    case 'load-messages':
      return await engine.loadMessages(str('chatId'), { limit: Number(c.limit), ...(c.before === undefined ? {} : { before: str('before') }) })
    case 'all-messages':
      return await engine.allMessages(str('chatId'))
    case 'get-message':
      return await engine.getMessage(str('chatId'), str('messageId'))
    case 'edit':
      return await engine.editMessage(str('chatId'), str('messageId'), str('text'))
    case 'react':
      return await engine.react(str('chatId'), str('messageId'), str('emoji'), c.on !== false)
    case 'delete':
      await engine.deleteMessage(str('chatId'), str('messageId'))
      return null
    case 'search':
      return await engine.searchMessages(str('query'), {
        ...(c.chatId === undefined ? {} : { chatId: c.chatId as string }),
        ...(c.limit === undefined ? {} : { limit: c.limit as number })
      })
    case 'export': {
      const text = await engine.exportChat(str('chatId'), { format: c.format as 'json' | 'html' })
      if (c.out === undefined) return { text }
      await writeFile(str('out'), text)
      return { out: c.out, bytes: Buffer.byteLength(text) }
    }
    case 'wait-screen':
      return await waitScreen(engine, str('chatId'), Number(c.count), str('text'))
    case 'wait-newest':
      return await waitNewest(engine, str('chatId'), str('messageId'))
    case 'dump':
      return await dumpState(engine)
    case 'store-damage':
      return engine.storeDamage()
    case 'stop':
      setImmediate(() => {
        void onStop()
      })
      return null
    default:
      throw badCommand(`unknown command ${c.cmd}`)
  }
}

/** A burst's texts: `texts` exactly as given, or `count` texts `${prefix}-${i}`. */
function burstTexts(c: Command): { count: number; text: (i: number) => string } {
  const texts = c.texts
  if (texts === undefined) {
    const count = Number(c.count)
    if (!Number.isSafeInteger(count) || count < 0) throw badCommand('burst: count must be a whole number ≥ 0')
    return { count, text: i => `${String(c.prefix)}-${i}` }
  }
  if (!Array.isArray(texts) || !texts.every(t => typeof t === 'string' && t !== '')) throw badCommand('burst: texts must be an array of non-empty strings')
  return { count: texts.length, text: i => texts[i] as string }
}

/** Sends the texts in order of issue, `concurrency` at a time, reporting each as soon as it is stored (unless `quiet`). */
async function burst(engine: Engine, chatId: string, { count, text }: ReturnType<typeof burstTexts>, concurrency: number, quiet: boolean): Promise<number> {
  if (!Number.isSafeInteger(concurrency) || concurrency < 1) throw badCommand('burst: concurrency must be a whole number ≥ 1')
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < count) {
      const t = text(next++)
      const m = await engine.sendMessage(chatId, t)
      if (!quiet) write({ event: 'stored', id: m.id, text: t })
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  return count
}

/** Resolves when the chat holds at least `count` messages (waits for the chat to appear too). */
function waitMessages(engine: Engine, chatId: string, count: number): Promise<number> {
  return waitChat(engine, () => {
    const n = engine.messageCount(chatId)
    return n >= count ? n : null
  })
}

/**
 * Resolves when the newest message the chat shows (`listMessages(chatId, { limit: 1 })`) is
 * `messageId`, with the chat's message count then (what a person sees: the chat opened at its end).
 */
function waitNewest(engine: Engine, chatId: string, messageId: string): Promise<number> {
  return waitChat(engine, () => (engine.listMessages(chatId, { limit: 1 })[0]?.id === messageId ? engine.messageCount(chatId) : null))
}

/**
 * Resolves when the chat's first screen is shown: `count` messages in memory whose newest has
 * the text `text` (a new device's newest segment in), with the time it took from the command.
 */
function waitScreen(engine: Engine, chatId: string, count: number, text: string): Promise<number> {
  if (!Number.isSafeInteger(count) || count < 1) throw badCommand('wait-screen: count must be a whole number ≥ 1')
  return waitChat(engine, () => {
    const screen = engine.listMessages(chatId, { limit: count })
    return screen.length === count && screen[count - 1]!.text === text ? count : null
  })
}

/** Checks `done` now and after every change to the chats (a chat not there yet counts as not done). */
function waitChat(engine: Engine, done: () => number | null): Promise<number> {
  const current = (): number | null => {
    try {
      return done()
    } catch {
      return null
    }
  }
  return new Promise(resolve => {
    const check = (): void => {
      const n = current()
      if (n === null) return
      unsubscribe()
      resolve(n)
    }
    const unsubscribe = engine.subscribe(e => {
      if (e.type === 'message' || e.type === 'messages' || e.type === 'chats') check()
    })
    check()
  })
}
