import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { freePort, peakMiB, rssMiB, script, startAndWaitLine, tempDir } from '../proc.js'
import { median } from '../stats.js'
import { seedPeerServer, startClient, startServer, type ChatRef, type Client, type Server, type SystemKey } from '../systems.js'
import { storeGranter } from '../tools/grants.js'

export interface ColdStartResult {
  system: SystemKey
  chats: number
  perChat: number
  runs: number
  /** ms from spawning the server process to it listening (median). */
  readyMs: number
  /** ms from spawning the server to a fresh client holding one chat's whole history, less the client's own process start (median). */
  firstHistoryMs: number
  /** ms to start the client process (spawn → first reply), not included above. */
  clientStartMs: number
  allMs: number[]
  /** Server RSS once listening, and once it has served that chat (median, MiB). */
  rssReadyMiB: number
  rssAfterMiB: number
  peakMiB: number
  seedMs: number
}

/**
 * (4) Server cold start: the server's store holds `chats` chats of `perChat`
 * messages (Tandem: one account per chat, written by real engines); the server
 * process starts, and a fresh client opens one chat (a different one each run).
 */
export async function benchColdStart(key: SystemKey, chats: number, perChat: number, runs: number): Promise<ColdStartResult> {
  // (the Tandem store is seeded by this build's engines in-process: nothing of the kind for 4e8b2c9's)
  if (key === 'tandem-plain') throw new Error('cold start is not measured for tandem-plain')
  const dataDir = await tempDir(`${key}-cold`)
  const port = await freePort()
  const s0 = performance.now()
  let refs: ChatRef[]
  let peerId: string | undefined
  if (key === 'tandem') {
    const relay = await startServer('tandem', dataDir, { port })
    peerId = relay.peerId
    const out = join(dataDir, 'seed.json')
    const { proc } = await startAndWaitLine(
      'seed-relay',
      'node',
      [
        script('tools/seed-relay.js'),
        '--relay',
        `/ip4/127.0.0.1/tcp/${port}/p2p/${peerId!}`,
        '--accounts',
        String(chats),
        '--messages',
        String(perChat),
        '--parallel',
        '16',
        '--out',
        out
      ],
      /^seeded/,
      4 * 3_600_000
    )
    await proc.exited
    await relay.stop()
    // each account's device store, in a directory of its own: it lists the fresh device of a run
    refs = (JSON.parse(await readFile(out, 'utf8')) as Array<{ chatId: string; accountDir: string }>).map(r => ({ chatId: r.chatId, granter: storeGranter(r.accountDir) }))
  } else {
    refs = await seedPeerServer(key, dataDir, chats, perChat)
  }
  const seedMs = performance.now() - s0
  const at = { port, peerId } as unknown as Server
  const ready: number[] = []
  const first: number[] = []
  const rssReady: number[] = []
  const rssAfter: number[] = []
  const peaks: number[] = []
  const clientStart: number[] = []
  for (let r = 0; r < runs; r++) {
    const ref = refs[(r * 7919 + 13) % refs.length]!
    let client: Client | null = null
    let server: Server | null = null
    try {
      const t0 = performance.now()
      server = await startServer(key, dataDir, { port })
      const readyMs = performance.now() - t0
      const rss0 = await rssMiB(server.proc.pid)
      // the client starts once the server listens (a tandem-device cannot start while its
      // relay is unreachable: see the bench README); its process start is not counted
      const c0 = performance.now()
      client = await startClient(key, `${key}-fresh`, at)
      await client.ready()
      clientStart.push(performance.now() - c0)
      await client.prepareJoin(ref)
      const t1 = performance.now()
      await client.join(ref)
      await client.waitMessages(perChat, 300_000)
      ready.push(readyMs)
      first.push(readyMs + performance.now() - t1)
      rssReady.push(rss0)
      rssAfter.push(await rssMiB(server.proc.pid))
      peaks.push(await peakMiB(server.proc.pid))
    } finally {
      await client?.stop()
      await server?.stop()
    }
  }
  return {
    system: key,
    chats,
    perChat,
    runs,
    readyMs: median(ready),
    firstHistoryMs: median(first),
    allMs: first,
    rssReadyMiB: median(rssReady),
    rssAfterMiB: median(rssAfter),
    peakMiB: median(peaks),
    seedMs,
    clientStartMs: median(clientStart)
  }
}
