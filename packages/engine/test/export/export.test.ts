import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, expect, it } from 'vitest'
import type { ChatExport } from '../../src/api.js'
import { escapeHtml } from '../../src/export/html-export.js'
import { createEngine, type Engine } from '../../src/node/index.js'

// A chat's export on a real classic-level store: every message of every segment (the oldest
// read from disk), in display order, with what a reader of the file needs to follow it.

let engine: Engine | null = null
let dir = ''
afterEach(async () => {
  await engine?.stop()
  await rm(dir, { recursive: true, force: true })
})

it('exports every message of every segment in display order, with authors, devices, times, edits and reactions, as JSON and as an escaped HTML page', async () => {
  dir = await mkdtemp(join(tmpdir(), 'tandem-export-'))
  const e = await createEngine({ dataDir: dir, deviceName: 'Ann\'s "laptop"', network: false, segments: { segmentMessages: 4 } })
  engine = e
  await e.createAccount({ name: 'Ann <admin>', recovery: false })
  const { chatId } = await e.createChat({ title: '<b>Plans</b> & "ideas"' })
  const sent = []
  for (let i = 0; i < 13; i++) sent.push(await e.sendMessage(chatId, `line ${i} <i>&amp;</i>`))
  await e.editMessage(chatId, sent[1]!.id, 'line 1, edited </article><script>alert(1)</script>')
  await e.react(chatId, sent[2]!.id, '🎉')
  await e.deleteMessage(chatId, sent[3]!.id)
  const kept = sent.filter((_, i) => i !== 3)

  const data = JSON.parse(await e.exportChat(chatId, { format: 'json' })) as ChatExport
  expect(data).toMatchObject({ format: 'tandem-chat-export', version: 1, chat: { id: chatId, title: '<b>Plans</b> & "ideas"' } })
  expect(data.messages.map(m => m.id)).toEqual(kept.map(m => m.id))
  expect(data.messages[0]).toEqual({
    id: sent[0]!.id,
    author: { accountId: e.accountId, name: 'Ann <admin>' },
    device: { peerId: e.peerId, name: 'Ann\'s "laptop"' },
    time: new Date(sent[0]!.timestamp.wall).toISOString(),
    text: 'line 0 <i>&amp;</i>',
    edited: false,
    reactions: []
  })
  expect(data.messages[1]).toMatchObject({ text: 'line 1, edited </article><script>alert(1)</script>', edited: true })
  expect(data.messages[2]!.reactions).toEqual([{ emoji: '🎉', accounts: [e.accountId] }])

  const html = await e.exportChat(chatId, { format: 'html' })
  expect(html.startsWith('<!doctype html>')).toBe(true)
  expect(html).not.toMatch(/<script|<i>|<b>|<\/article><script/)
  expect(html).toContain('<title>&lt;b&gt;Plans&lt;/b&gt; &amp; &quot;ideas&quot;</title>')
  expect(html).toContain('line 0 &lt;i&gt;&amp;amp;&lt;/i&gt;')
  expect(html).toContain('Ann &lt;admin&gt;')
  expect(html).toContain('Ann&#39;s &quot;laptop&quot;')
  expect(html).toContain('🎉 1')
  expect(html).toContain('<div class="edited">edited</div>')
  expect(html.match(/<article /g)).toHaveLength(12)
})

it('escapes every character that could end an element or a quoted attribute', () => {
  expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe('&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;')
})
