import type { DeviceEvent, DeviceProcess } from '../helpers/device-process.js'
import type { RelayProcess } from '../helpers/relay-process.js'
import type { Rig } from '../relay/relay-helpers.js'

/** Issue 16's cast as real processes: a relay, Alice with two devices, Bob with two, Carol with one. */
export interface Cast {
  relay: RelayProcess
  /** The relay's data directory: a relay started again on it (and its port) is the same relay. */
  relayDir: string
  alice: [DeviceProcess, DeviceProcess]
  bob: [DeviceProcess, DeviceProcess]
  carol: DeviceProcess
  ids: { alice: string; bob: string; carol: string }
  /** Every device, in the order above. */
  all: DeviceProcess[]
}

/**
 * Starts the relay and the five `tandem-device --control` processes (every one watching:
 * `message` events are written), makes the three accounts and links each second device.
 */
export async function startCast(rig: Rig): Promise<Cast> {
  const relayDir = await rig.dir('relay')
  const relay = await rig.relay(relayDir)
  const device = async (label: string): Promise<DeviceProcess> => {
    const d = rig.device(label, await rig.dir(label), ['--relay', relay.address])
    await d.request('watch')
    return d
  }
  const [alice1, alice2, bob1, bob2, carol] = [await device('alice1'), await device('alice2'), await device('bob1'), await device('bob2'), await device('carol')]
  const made = async (first: DeviceProcess, name: string, ...others: DeviceProcess[]): Promise<string> => {
    const { accountId } = await first.request<{ accountId: string }>('create-account', { name, recovery: false })
    for (const o of others) await o.joinVia(first)
    return accountId
  }
  const ids = { alice: await made(alice1, 'Alice', alice2), bob: await made(bob1, 'Bob', bob2), carol: await made(carol, 'Carol') }
  return { relay, relayDir, alice: [alice1, alice2], bob: [bob1, bob2], carol, ids, all: [alice1, alice2, bob1, bob2, carol] }
}

/** Alice's invite, shown on `from` and accepted on `to`: their 1:1 chat, waited for on every device of both. */
export async function directChat(cast: Cast, from: DeviceProcess, to: DeviceProcess): Promise<string> {
  const invite = await from.request<{ text: string }>('create-invite')
  const { chatId } = await to.request<{ chatId: string }>('accept-invite', { text: invite.text })
  for (const d of [...cast.alice, ...cast.bob]) await d.request('wait-chat', { chatId })
  return chatId
}

/**
 * The statuses a device showed for a message, in the order it showed them: the status of the
 * `message` event that first showed it here (on the device that sent it, the one its own append
 * raised: the reply to `send` comes only once the message is on disk, by when a loaded machine
 * may have seen it delivered already), then every `status` event naming it.
 */
export function statusesShown(d: DeviceProcess, messageId: string): string[] {
  const out: string[] = []
  for (const e of d.events) {
    if (e.event === 'message' && (e.message as { id: string }).id === messageId && out.length === 0) out.push((e.message as { status: string }).status)
    if (e.event === 'status' && (e.messageIds as string[]).includes(messageId)) out.push(e.status as string)
  }
  return out
}

/** Waits until the device's `status` events have moved `messageId` to `status`. */
export const untilStatus = (d: DeviceProcess, messageId: string, status: string): Promise<DeviceEvent> =>
  d.waitForEvent(e => e.event === 'status' && e.status === status && (e.messageIds as string[]).includes(messageId))

/** The chat as the device's chat list shows it now. */
export async function listed(d: DeviceProcess, chatId: string): Promise<{ unreadCount: number; readUpTo: string | null }> {
  const chats = await d.request<Array<{ chatId: string; unreadCount: number; readUpTo: string | null }>>('chats')
  const chat = chats.find(c => c.chatId === chatId)
  if (chat === undefined) throw new Error(`${d.label} does not list ${chatId}`)
  return chat
}

/** Waits until the device's chat list shows the chat as `wanted` says (checked now and after every `chats` event). */
export async function untilListed(d: DeviceProcess, chatId: string, wanted: (chat: { unreadCount: number; readUpTo: string | null }) => boolean, what: string): Promise<void> {
  for (;;) {
    const seen = d.events.length
    if (wanted(await listed(d, chatId))) return
    await d
      .waitForEvent(e => e.event === 'chats' && d.events.indexOf(e) >= seen)
      .catch((err: Error) => {
        throw new Error(`${d.label}: ${what}: ${err.message}`)
      })
  }
}
