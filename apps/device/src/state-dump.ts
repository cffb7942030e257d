import type { Engine } from '@tandem/engine'

export interface StateDump {
  peerId: string
  accountId: string | null
  name: string | null
  devices: Array<{ peerId: string; name: string }>
  /** Peer ids revoked from the account. */
  revoked: string[]
  chats: Array<{ chatId: string; title: string; messages: Array<{ id: string; author: string; device: string; text: string; wall: number; counter: number; status: string }> }>
  stateVectors: Record<string, string>
}

/** Full decoded state of a device, for convergence checks: identical dumps ⇔ identical state. */
export async function dumpState(engine: Engine): Promise<StateDump> {
  const info = engine.accountInfo
  const chats = info === null ? [] : engine.listChats()
  const stateVectors: Record<string, string> = {}
  for (const [docId, sv] of Object.entries(engine.stateVectors())) stateVectors[docId] = Buffer.from(sv).toString('base64')
  return {
    peerId: engine.peerId,
    accountId: info?.accountId ?? null,
    name: info?.name ?? null,
    devices: info === null ? [] : engine.listDevices().map(d => ({ peerId: d.peerId, name: d.name })),
    revoked: info === null ? [] : engine.listRevokedDevices(),
    chats: await Promise.all(
      chats.map(async c => ({
        chatId: c.chatId,
        title: c.title,
        // every segment, not only those in memory
        messages: (await engine.allMessages(c.chatId)).map(m => ({
          id: m.id,
          author: m.author,
          device: m.device,
          text: m.text,
          wall: m.timestamp.wall,
          counter: m.timestamp.counter,
          status: m.status
        }))
      }))
    ),
    stateVectors
  }
}
