import type { RemoteMethod, RemoteReply } from '@tandem/engine/remote'

/** A failed call as the API said it: its stable code, its sentence, and the HTTP status. */
export class RemoteCallError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number
  ) {
    super(message)
  }
}

/** An open `GET /events` stream: `ready` once subscribed, `close()` ends it. */
export interface EventStream {
  ready: Promise<void>
  closed: Promise<void>
  close(): void
}

/**
 * A Node client of a running device's API (the subcommands, the `npm start` launcher, tests):
 * `call` is one POST /rpc, `events` reads the Server-Sent Events with fetch (Node has no EventSource).
 */
export class RemoteClient {
  constructor(
    readonly url: string,
    private readonly token: string
  ) {}

  async call<T = unknown>(method: RemoteMethod, ...args: unknown[]): Promise<T> {
    const res = await fetch(`${this.url}/rpc`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${this.token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ method, args })
    })
    const reply = (await res.json()) as RemoteReply
    if ('error' in reply) throw new RemoteCallError(reply.error.code, reply.error.message, res.status)
    return reply.result as T
  }

  events(onEvent: (event: { type: string } & Record<string, unknown>) => void): EventStream {
    const abort = new AbortController()
    let subscribed!: () => void
    const ready = new Promise<void>(resolve => {
      subscribed = resolve
    })
    const closed = (async () => {
      const res = await fetch(`${this.url}/events`, { headers: { Authorization: `Bearer ${this.token}` }, signal: abort.signal })
      if (!res.ok || res.body === null) throw new RemoteCallError('ERR_EVENTS', `GET /events answered ${res.status}`, res.status)
      subscribed()
      const decoder = new TextDecoder()
      let buffer = ''
      for await (const chunk of res.body) {
        buffer += decoder.decode(chunk as Uint8Array, { stream: true })
        // an event ends with a blank line; its `data:` lines are its JSON
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          const block = buffer.slice(0, end)
          buffer = buffer.slice(end + 2)
          const data = block
            .split('\n')
            .filter(l => l.startsWith('data: '))
            .map(l => l.slice(6))
            .join('\n')
          if (data !== '') onEvent(JSON.parse(data))
        }
      }
    })().catch(err => {
      if (!abort.signal.aborted) throw err
    })
    return { ready: Promise.race([ready, closed]), closed, close: () => abort.abort() }
  }
}
