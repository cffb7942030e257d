import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { ChatView, segmentOfMessage } from '../src/chat/chat-view.js'
import { ChatDoc } from '../src/model/chat-doc.js'
import { MessageLog } from '../src/model/message-log.js'
import type { MessageRecord } from '../src/model/message.js'

const record = (id: string, wall: number): MessageRecord => ({ id, author: 'acct', device: 'dev', text: `at ${wall}`, wall, counter: 0 })

/** A chat doc from before segments: its messages in its own `messages` map. */
function legacyChat(): { doc: Y.Doc; log: MessageLog } {
  const doc = new Y.Doc()
  const log = new MessageLog(doc, null)
  doc.transact(() => {
    log.append(record('aaaa', 1))
    log.append(record('bbbb', 2))
  })
  return { doc, log }
}

function segment(n: number, walls: number[]): MessageLog {
  const log = new MessageLog(new Y.Doc(), null)
  log.doc.transact(() => {
    for (const w of walls) log.append(record(`${n}.${w}`, w))
  })
  return log
}

describe('a chat in memory', () => {
  it('reads a chat from before segments as segment 0, and lists it under the segments written since', () => {
    const { doc, log } = legacyChat()
    const chat = new ChatDoc(doc)
    const view = new ChatView('c', chat)
    view.attach(0, log)
    expect(view.ordered().map(m => m.id)).toEqual(['aaaa', 'bbbb'])
    // new messages go to segments: the legacy ones stay, listed first
    doc.transact(() => {
      chat.startSegment(1, 10)
    })
    view.attach(1, segment(1, [10, 11]))
    expect(view.ordered().map(m => m.id)).toEqual(['aaaa', 'bbbb', '1.10', '1.11'])
    expect(view.size).toBe(4)
  })

  it('lists only the unbroken run of loaded segments down from the highest: a page never skips a segment', () => {
    const doc = new Y.Doc()
    const chat = new ChatDoc(doc)
    doc.transact(() => {
      for (let n = 1; n <= 4; n++) chat.startSegment(n, n)
    })
    const view = new ChatView('c', chat)
    view.attach(0, new MessageLog(doc, null))
    view.attach(4, segment(4, [40, 41]))
    view.attach(3, segment(3, [30, 31]))
    view.attach(1, segment(1, [10, 11])) // opened again for an edit, below the gap at 2
    expect(view.ordered().map(m => m.id)).toEqual(['3.30', '3.31', '4.40', '4.41'])
    expect(view.shows(1)).toBe(false)
    view.attach(2, segment(2, [20]))
    expect(view.ordered().map(m => m.id)).toEqual(['1.10', '1.11', '2.20', '3.30', '3.31', '4.40', '4.41'])
    // a segment that leaves memory still counts
    view.detach(1)
    expect(view.ordered().map(m => m.id)).toEqual(['2.20', '3.30', '3.31', '4.40', '4.41'])
    expect(view.size).toBe(7)
  })

  it('reads the segment a message id names', () => {
    expect(segmentOfMessage('12.abcdef')).toBe(12)
    expect(segmentOfMessage('abcdef')).toBe(0) // from before segments
    expect(segmentOfMessage('x.abcdef')).toBe(0)
    expect(segmentOfMessage('.abcdef')).toBe(0)
  })
})
