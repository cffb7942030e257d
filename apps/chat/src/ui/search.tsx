import type { Message } from '@tandem/engine'
import { useState } from 'preact/hooks'
import type { Wire } from '../api/wire.js'
import { shortTime } from './format.js'
import { useAction, useDevice, useQuery } from './hooks.js'

/** Every chat's messages by words (each a prefix: "hel" finds "hello"), newest first; a result opens its chat. */
export function SearchScreen({ onOpen }: { onOpen(chatId: string): void }) {
  const { api } = useDevice()
  const act = useAction()
  const [query, setQuery] = useState('')
  const [results, setResults] = useState<Array<Wire<Message>> | null>(null)
  const [chats] = useQuery(
    a => a.listChats(),
    e => e.type === 'chats',
    []
  )
  const title = (chatId: string) => chats?.find(c => c.chatId === chatId)?.title ?? ''
  return (
    <section class="search" aria-labelledby="search-title">
      <h2 id="search-title">Search</h2>
      <form
        onSubmit={e => {
          e.preventDefault()
          void act(async () => setResults(await api.searchMessages(query)))
        }}
      >
        <label for="search-query">Words to find</label>
        <input id="search-query" type="search" value={query} onInput={e => setQuery(e.currentTarget.value)} required />
        <button type="submit">Search</button>
      </form>
      {results !== null && (
        <ul class="results" data-testid="search-results" aria-live="polite">
          {results.length === 0 && <li>Nothing found.</li>}
          {results.map(m => (
            <li key={m.id}>
              <button type="button" class="result" onClick={() => onOpen(m.chatId)}>
                <b>{title(m.chatId)}</b> <small>{shortTime(m.timestamp.wall)}</small>
                <span>{m.text}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  )
}
