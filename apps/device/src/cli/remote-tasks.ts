import { writeFile } from 'node:fs/promises'
import type { AccountInfo, ChatListEntry, Contact, DeviceInfo, Message } from '@tandem/engine'
import { formatDevices } from '../devices.js'
import type { RemoteClient } from '../http/remote-client.js'
import type { DeviceTask } from '../options.js'
import { say } from '../say.js'
import type { Terminal } from '../terminal.js'
import { formatChats, formatMessage, Names, pickChat, TICKS } from './chat-view.js'
import { linkByCodeRemote, showLinkCodeRemote } from './remote-link.js'

/** Subcommands that only talk to a running device (they need its account open). */
export const RUNNING_ONLY: ReadonlySet<DeviceTask['kind']> = new Set(['chats', 'send', 'read', 'invite', 'status'])
/** Subcommands that go to the running device when one answers, and open the store themselves when none runs. */
export const RUNNING_FIRST: ReadonlySet<DeviceTask['kind']> = new Set(['devices', 'revoke', 'link', 'export'])

interface Info {
  peerId: string
  accountId: string | null
  account: AccountInfo | null
  multiaddrs: string[]
  relays: Array<{ relay: string; connected: boolean; pendingUploads: number }>
  peers: string[]
}

/**
 * A subcommand on the running device, through its API: sentences for a person, or with
 * `json` the call's result as one JSON value. Failures throw the API's typed error.
 */
export async function runRemoteTask(device: RemoteClient, task: DeviceTask, json: boolean, term: () => Terminal): Promise<void> {
  const out = (value: unknown, human: () => string): void => say(json ? JSON.stringify(value) : human())
  const names = async (): Promise<Names> => new Names((await device.call<Info>('info')).accountId, await device.call<Contact[]>('listContacts'))
  const chat = async (ref: string): Promise<ChatListEntry> => pickChat(await device.call<ChatListEntry[]>('listChats'), ref)
  switch (task.kind) {
    case 'chats': {
      const chats = await device.call<ChatListEntry[]>('listChats')
      const n = await names()
      return out(chats, () => formatChats(chats, n))
    }
    case 'send': {
      const to = await chat(task.chat)
      const m = await device.call<Message>('sendMessage', to.chatId, task.text)
      return out(m, () => `${TICKS[m.status]} to ${to.title}: ${m.text}`)
    }
    case 'read': {
      const c = await chat(task.chat)
      const messages = await device.call<Message[]>('loadMessages', c.chatId, { limit: task.limit })
      const n = await names()
      const newest = messages.at(-1)
      if (newest !== undefined) await device.call('markRead', c.chatId, newest.id)
      return out(messages, () => (messages.length === 0 ? `(no messages in ${c.title} yet)` : [`— ${c.title} —`, ...messages.map(m => formatMessage(m, n))].join('\n')))
    }
    case 'invite': {
      if (task.accept !== undefined) {
        const opened = await device.call<ChatListEntry>('acceptInvite', task.accept)
        return out(opened, () => `A chat with ${opened.title} is open: \`tandem-device send "${opened.title}" <text>\` writes in it.`)
      }
      const shown = await device.call<{ text: string; qr: { terminal: string }; invite: { expiresAt: number } }>('createInvite')
      return out({ text: shown.text, expiresAt: shown.invite.expiresAt }, () =>
        [shown.qr.terminal, `  ${shown.text}`, '', 'The other person scans it, or runs: tandem-device invite --accept <the text above>'].join('\n')
      )
    }
    case 'status': {
      const info = await device.call<Info>('info')
      return out({ ...info, api: device.url }, () =>
        [
          `device   ${info.peerId}`,
          `account  ${info.accountId === null ? '(none yet)' : `${info.accountId}${info.account?.name ? ` (${info.account.name})` : ''}`}`,
          ...info.relays.map(r => `relay    ${r.relay}: ${r.connected ? 'connected' : 'not connected'}${r.pendingUploads > 0 ? `, ${r.pendingUploads} waiting to upload` : ''}`),
          `devices  ${info.peers.length} connected${info.peers.length > 0 ? `: ${info.peers.join(', ')}` : ''}`,
          `api      ${device.url}`
        ].join('\n')
      )
    }
    case 'devices': {
      const devices = await device.call<DeviceInfo[]>('listDevices')
      return out(devices, () => formatDevices(devices))
    }
    case 'revoke': {
      await device.call('revokeDevice', task.peerId)
      return out({ revoked: task.peerId }, () => `Revoked ${task.peerId}: it can no longer read or write this account, and erases it when it learns.`)
    }
    case 'export': {
      const text = await device.call<string>('exportChat', (await chat(task.chatId)).chatId, { format: task.format })
      if (task.out === undefined) return void process.stdout.write(text)
      await writeFile(task.out, text)
      return out({ out: task.out, bytes: Buffer.byteLength(text) }, () => `Wrote ${task.out} (${Buffer.byteLength(text)} bytes).`)
    }
    case 'link': {
      if (task.code !== undefined) {
        const linked = await linkByCodeRemote(device, task.code, task.yes ? null : term())
        return out(linked, () => `Linked "${linked.name}" (${linked.peerId}).`)
      }
      await showLinkCodeRemote(device, term(), json)
      return out({ linked: true }, () => 'Linked: the running device is now a device of the account; its history is on its way.')
    }
    default:
      throw Object.assign(new Error(`${task.kind} does not run on a running device: stop it first`), { code: 'ERR_INVALID_ARGUMENT' })
  }
}
