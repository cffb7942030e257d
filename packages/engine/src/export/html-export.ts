import type { ChatExport, ExportedMessage } from './chat-export.js'

/** Text made safe for HTML element content and quoted attribute values: every character that could end either. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, c => ESCAPES[c]!)
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }

// One inline style sheet and no script: the page is one file that opens anywhere, offline, and runs nothing.
const STYLE = `
body { font: 15px/1.45 system-ui, sans-serif; max-width: 46rem; margin: 2rem auto; padding: 0 1rem; color: #1d1d1f; background: #fafafa; }
header { border-bottom: 1px solid #ddd; margin-bottom: 1rem; }
h1 { font-size: 1.4rem; margin: 0 0 .2rem; }
.meta, small, time { color: #6e6e73; font-size: .8rem; }
h2 { font-size: .8rem; color: #6e6e73; text-align: center; margin: 1.4rem 0 .6rem; font-weight: 600; }
article { background: #fff; border: 1px solid #e5e5ea; border-radius: .6rem; padding: .5rem .75rem; margin: .4rem 0; }
.who { font-weight: 600; }
.text { white-space: pre-wrap; overflow-wrap: anywhere; margin: .2rem 0; }
.edited { color: #6e6e73; font-size: .75rem; font-style: italic; }
.reactions span { display: inline-block; border: 1px solid #e5e5ea; border-radius: 1rem; padding: 0 .45rem; margin-right: .25rem; font-size: .8rem; }
`

/**
 * A chat export as one readable, self-contained HTML page: the title, then every message in
 * display order under a heading per day (UTC), each with its author's name (or account id),
 * device, time, text (escaped, line breaks kept), an edited mark and its reactions.
 */
export function renderChatHtml(data: ChatExport): string {
  const parts: string[] = []
  let day = ''
  for (const m of data.messages) {
    const today = m.time.slice(0, 10)
    if (today !== day) {
      day = today
      parts.push(`<h2>${escapeHtml(day)}</h2>`)
    }
    parts.push(renderMessage(m))
  }
  const title = escapeHtml(data.chat.title === '' ? 'Chat' : data.chat.title)
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="Tandem chat export ${data.version}">
<title>${title}</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>${title}</h1>
<p class="meta">${data.messages.length} messages · created <time datetime="${escapeHtml(data.chat.createdAt)}">${escapeHtml(data.chat.createdAt)}</time> · exported <time datetime="${escapeHtml(data.exportedAt)}">${escapeHtml(data.exportedAt)}</time></p>
</header>
<main>
${parts.join('\n')}
</main>
</body>
</html>
`
}

function renderMessage(m: ExportedMessage): string {
  const who = m.author.name ?? m.author.accountId
  const device = m.device.name ?? m.device.peerId
  const reactions =
    m.reactions.length === 0
      ? ''
      : `\n<div class="reactions">${m.reactions.map(r => `<span title="${escapeHtml(r.accounts.join(', '))}">${escapeHtml(r.emoji)} ${r.accounts.length}</span>`).join('')}</div>`
  return `<article id="m-${escapeHtml(m.id)}">
<div><span class="who" title="${escapeHtml(m.author.accountId)}">${escapeHtml(who)}</span> <small title="${escapeHtml(m.device.peerId)}">${escapeHtml(device)}</small> <time datetime="${escapeHtml(m.time)}">${escapeHtml(m.time.slice(11, 19))}</time></div>
<div class="text">${escapeHtml(m.text)}</div>${m.edited ? '\n<div class="edited">edited</div>' : ''}${reactions}
</article>`
}
