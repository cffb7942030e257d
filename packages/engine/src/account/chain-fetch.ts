import { type ChainLink, type ChainState, errorFromWire, MAX_CHAIN_LINKS, MalformedFrameError, STORE_PROTOCOL_VERSION, type StoreFrame, verifyChain } from '@tandem/protocol'
import { FramedSession, type Link } from '@tandem/transport'
import { RelayUnavailableError, UnknownAccountError } from '../errors.js'
import { STORE_FRAMES } from '../relay/relay-connection.js'
import type { Runtime } from '../runtime.js'

/**
 * Reads an account's device chain from a relay without being one of its devices: a store
 * hello naming the account and no head, and the relay answers with its whole chain (what it
 * sends any device whose head is not on its chain). What recovery starts from: the relay is
 * trusted for nothing — the chain must verify and found the account id asked for.
 */
export function fetchChain(
  link: Link,
  accountId: string,
  runtime: Pick<Runtime, 'setTimeout' | 'clearTimeout'>,
  timeoutMs: number
): Promise<{ links: ChainLink[]; state: ChainState }> {
  return new Promise((resolve, reject) => {
    let settled = false
    const links: ChainLink[] = []
    const finish = (result: { links: ChainLink[]; state: ChainState } | Error): void => {
      if (settled) return
      settled = true
      runtime.clearTimeout(timer)
      session.close()
      if (result instanceof Error) reject(result)
      else resolve(result)
    }
    const timer = runtime.setTimeout(() => {
      finish(new RelayUnavailableError(`the relay did not send the chain of account ${accountId} within ${timeoutMs / 1000} s`))
    }, timeoutMs)
    let welcomed = false
    const session = new FramedSession<StoreFrame>(link, STORE_FRAMES, {
      handle: frame => {
        if (frame.type === 'error') return finish(errorFromWire(frame.code, frame.message))
        if (!welcomed) {
          if (frame.type !== 'welcome') throw new MalformedFrameError(`expected welcome, got ${frame.type}`)
          welcomed = true
          if (frame.head === null) finish(new UnknownAccountError(`the relay holds no account ${accountId}`))
          return
        }
        if (frame.type !== 'links') return // device-activity and the like: not ours to read
        if (links.length + frame.links.length > MAX_CHAIN_LINKS) throw new MalformedFrameError(`a chain of more than ${MAX_CHAIN_LINKS} links`)
        links.push(...frame.links)
        if (!frame.last) return
        try {
          finish({ links, state: verifyChain(links, { accountId }) })
        } catch (err) {
          finish(err as Error)
        }
      },
      closed: error => {
        finish(error ?? new RelayUnavailableError('the relay closed the stream before sending the chain'))
      }
    })
    session.start()
    void session.send({ type: 'hello', version: STORE_PROTOCOL_VERSION, accountId, head: null })
  })
}
