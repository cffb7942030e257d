import { segmentDocId, type SignedMembership } from '@tandem/protocol'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import type { BlobCodec } from '../src/relay/blob-codec.js'
import type { RelayConnection } from '../src/relay/relay-connection.js'
import { RelayReader, type RelayReaderHost } from '../src/relay/relay-reader.js'
import type { DocRelayState, RelayState } from '../src/relay/relay-state.js'
import type { RelayStateSaver } from '../src/relay/relay-state-saver.js'

// A chat's docs (the chat doc and each of its segments) are served under the chat's one
// membership record: a device offers it once per connection, not with every subscription. A
// relay verified each offer (a noble Ed25519 verify in the session's turn, ~3 ms), and a new
// device's hundred segment subscriptions of a 100k history waited on them in a row.

const CHAT = 'chat:0123456789abcdef01234567'

function rig(record: () => SignedMembership | null) {
  const doc = new Y.Doc()
  const st: DocRelayState = { cursor: 0, uploaded: new Map(), acked: new Map(), ackedDurable: new Map() }
  const host: RelayReaderHost = {
    codec: {} as BlobCodec,
    membership: record,
    open: async () => doc,
    get: () => doc,
    apply: () => {},
    awaitsAck: () => false,
    needsRefetch: () => false
  }
  const connection = (): { conn: RelayConnection; sent: string[] } => {
    const sent: string[] = []
    const conn = {
      send: async (f: { type: string; docId?: string; record?: SignedMembership }) => {
        sent.push(f.type === 'membership' ? `membership v${f.record!.version}` : `${f.type} ${f.docId}`)
      }
    } as unknown as RelayConnection
    return { conn, sent }
  }
  const ignore = (): void => {}
  const reader = new RelayReader('relay', host, { doc: () => st } as unknown as RelayState, {} as RelayStateSaver, () => null, {
    onProgress: ignore,
    onLive: ignore,
    onError: ignore,
    onSettled: ignore,
    onRejected: ignore,
    onAdvanced: ignore,
    onRefetched: ignore,
    onLiveApplied: ignore,
    onLiveLost: ignore
  })
  return { reader, connection }
}

const recordOf = (version: number): SignedMembership => ({ docId: CHAT, version }) as unknown as SignedMembership

describe('the relay reader offers a chat’s membership record', () => {
  it('once per connection for the chat doc and all its segments, and again on a new connection', () => {
    const current = recordOf(1)
    const { reader, connection } = rig(() => current)
    const first = connection()
    for (const docId of [CHAT, segmentDocId(CHAT.slice(5), 1), segmentDocId(CHAT.slice(5), 2)]) reader.subscribe(first.conn, docId)
    expect(first.sent).toEqual(['membership v1', `subscribe ${CHAT}`, `subscribe ${CHAT}:1`, `subscribe ${CHAT}:2`])

    const second = connection()
    reader.subscribe(second.conn, segmentDocId(CHAT.slice(5), 3))
    expect(second.sent).toEqual(['membership v1', `subscribe ${CHAT}:3`])
  })

  it('again on the same connection once the chat has a newer record', () => {
    let current = recordOf(1)
    const { reader, connection } = rig(() => current)
    const { conn, sent } = connection()
    reader.subscribe(conn, CHAT)
    current = recordOf(2)
    reader.subscribe(conn, segmentDocId(CHAT.slice(5), 1))
    reader.subscribe(conn, segmentDocId(CHAT.slice(5), 2))
    expect(sent).toEqual(['membership v1', `subscribe ${CHAT}`, 'membership v2', `subscribe ${CHAT}:1`, `subscribe ${CHAT}:2`])
  })

  it('never for a doc that is no chat’s', () => {
    const { reader, connection } = rig(() => null)
    const { conn, sent } = connection()
    reader.subscribe(conn, 'account:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa')
    expect(sent).toEqual(['subscribe account:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'])
  })
})
