import { connect } from 'node:net'
import { brotliCompressSync, constants as zlibConstants, deflateSync } from 'node:zlib'
import { encodeMessageRecord } from '@tandem/engine/internal'
import * as Y from 'yjs'
import { script, startAndWaitLine } from '../proc.js'
import { median } from '../stats.js'
import { terminate } from '../systems.js'
import { authorId, messageText, randomId } from '../text.js'

export interface TcpResult {
  bytes: number
  mbPerSec: number
  runs: number
}

/** (7a) Raw TCP on loopback: one connection, `bytes` written in 64 KiB chunks to a sink process. */
export async function benchTcp(bytes: number, runs: number): Promise<TcpResult> {
  const { proc, m } = await startAndWaitLine('tcp-sink', 'node', [script('tools/tcp-sink.js')], /^port (\d+)/)
  const port = Number(m[1])
  const chunk = Buffer.alloc(64 * 1024, 7)
  const rates: number[] = []
  try {
    for (let r = 0; r < runs; r++) {
      rates.push(
        await new Promise<number>((resolve, reject) => {
          const s = connect({ host: '127.0.0.1', port, allowHalfOpen: true })
          let sent = 0
          const t0 = performance.now()
          const pump = (): void => {
            while (sent < bytes) {
              sent += chunk.byteLength
              if (!s.write(chunk)) {
                s.once('drain', pump)
                return
              }
            }
            s.end()
          }
          s.on('connect', pump)
          s.on('data', () => {
            resolve(bytes / ((performance.now() - t0) / 1000) / 1e6)
            s.destroy()
          })
          s.on('error', reject)
        })
      )
    }
  } finally {
    await terminate(proc)
  }
  return { bytes, mbPerSec: median(rates), runs }
}

export interface YjsResult {
  n: number
  /** A chat doc as the engine stores it: Y.Map 'messages', message id → binary record. */
  encodeMs: number
  applyMs: number
  bytesPerMessageV1: number
  bytesPerMessageV2: number
  /** The same v1 update deflated (zlib level 6). */
  bytesPerMessageDeflated: number
  /** The same v1 update brotli-compressed at quality 4: what Tandem's blob compression uses. */
  bytesPerMessageBrotli: number
  /** The peers' record {id, author, text, ts} as JSON in a Y.Array, v1. */
  peerShapeBytesPerMessage: number
}

/**
 * Tandem's message record, byte for byte `encodeMessageRecord` of
 * packages/engine/src/model/message.ts (version 1, author, device, text, wall, counter).
 */

/** (7b) Yjs alone, in-process: encode a chat doc of N messages and apply it to a fresh doc. */
export function benchYjs(n: number, runs: number): YjsResult {
  const wall0 = 1_790_000_000_000
  const tandemDoc = (): Y.Doc => {
    const doc = new Y.Doc()
    const messages = doc.getMap<Uint8Array>('messages')
    const author = `a${authorId(1).slice(1)}` // an account id: 'a' + 32 base32 characters
    const device = `12D3KooW${'x'.repeat(44)}` // a peer id: 52 characters
    for (let i = 0; i < n; i += 1000) {
      doc.transact(() => {
        for (let j = i; j < Math.min(n, i + 1000); j++)
          messages.set(randomId(), encodeMessageRecord({ id: '', author, device, text: messageText(1, j), wall: wall0 + j, counter: 0 }))
      })
    }
    return doc
  }
  const peerDoc = (): Y.Doc => {
    const doc = new Y.Doc()
    const arr = doc.getArray('messages')
    for (let i = 0; i < n; i += 1000) {
      doc.transact(() => {
        const batch: unknown[] = []
        for (let j = i; j < Math.min(n, i + 1000); j++) batch.push({ id: randomId(), author: authorId(1), text: messageText(1, j), ts: wall0 + j })
        arr.insert(arr.length, batch)
      })
    }
    return doc
  }
  const doc = tandemDoc()
  const enc: number[] = []
  const app: number[] = []
  let update: Uint8Array = new Uint8Array(0)
  for (let r = 0; r < runs; r++) {
    let t0 = performance.now()
    update = Y.encodeStateAsUpdate(doc)
    enc.push(performance.now() - t0)
    const fresh = new Y.Doc()
    t0 = performance.now()
    Y.applyUpdate(fresh, update)
    app.push(performance.now() - t0)
    fresh.destroy()
  }
  const v2 = Y.encodeStateAsUpdateV2(doc)
  const peer = Y.encodeStateAsUpdate(peerDoc())
  return {
    n,
    encodeMs: median(enc),
    applyMs: median(app),
    bytesPerMessageV1: update.byteLength / n,
    bytesPerMessageV2: v2.byteLength / n,
    bytesPerMessageDeflated: deflateSync(update).byteLength / n,
    bytesPerMessageBrotli: brotliCompressSync(update, { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 4 } }).byteLength / n,
    peerShapeBytesPerMessage: peer.byteLength / n
  }
}
