import { LinkQuestion } from '../link-question.js'
import type { Engine, LinkInvite } from '@tandem/engine'
import { EngineStateError, InvalidArgumentError } from '@tandem/engine'
import type { RemoteMethod } from '@tandem/engine/remote'
import { errorBody, toRemote } from './remote-json.js'

/** An event the server adds to the engine's own on `GET /events`. */
export type ServerEvent =
  | { type: 'link-confirm'; confirmation: string; name: string; platform: string; peerId: string }
  | { type: 'link-confirm-closed'; peerId: string }
  | { type: 'link-confirmation'; confirmation: string }
  | { type: 'link-passphrase-needed'; wrongAttempts: number; retryAfterMs: number }
  | { type: 'linked'; accountId: string | null }
  | { type: 'link-failed'; error: { code: string; message: string } }

/**
 * The remote methods on one engine. Most are the engine's own, called with the args as
 * given (the engine checks its inputs and throws its typed errors); a few cannot travel as
 * they are and are the server's: `info`, `showLinkCode` (the invite object stays here, its
 * events go out on the stream), `enterPassphrase`/`cancelLink` (its answers), `linkDevice`
 * (the confirm callback becomes a `link-confirm` event) and `confirmLink` (the answer).
 */
export class RemoteCalls {
  private invite: LinkInvite | null = null
  /** The link's six digits go out as `link-confirm`; the person's `confirmLink(ok)` answers (a session that ends first closes it). */
  private readonly question = new LinkQuestion({
    asked: info => this.emit({ type: 'link-confirm', ...info }),
    closed: peerId => this.emit({ type: 'link-confirm-closed', peerId })
  })

  constructor(
    private readonly engine: Engine,
    private readonly emit: (event: ServerEvent) => void
  ) {}

  async call(method: RemoteMethod, args: unknown[]): Promise<unknown> {
    const engine = this.engine
    switch (method) {
      case 'info':
        return {
          peerId: engine.peerId,
          accountId: engine.accountId,
          account: engine.accountInfo,
          multiaddrs: engine.multiaddrs(),
          relays: engine.relayStatus(),
          peers: engine.connectedPeers()
        }
      case 'showLinkCode':
        return this.showLinkCode(args[0])
      case 'enterPassphrase':
        if (this.invite === null) throw new EngineStateError('no link code is shown: call showLinkCode first')
        await this.invite.enterPassphrase(args[0] as string)
        return null
      case 'cancelLink':
        this.invite?.cancel()
        return null
      case 'linkDevice':
        if (typeof args[0] !== 'string') throw new InvalidArgumentError('linkDevice(code): the code must be a string')
        return await engine.linkDevice(args[0], { confirm: this.question.ask })
      case 'confirmLink':
        return this.confirmLink(args[0])
      default: {
        const fn = (engine as unknown as Record<string, (...a: unknown[]) => unknown>)[method]
        if (typeof fn !== 'function') throw new InvalidArgumentError(`${method} is not a method of this engine`)
        return toRemote(await fn.apply(engine, args))
      }
    }
  }

  private async showLinkCode(options: unknown): Promise<unknown> {
    const invite = await this.engine.showLinkCode((options ?? {}) as { ttlMs?: number })
    this.invite?.cancel() // one code at a time: a newer one replaces it
    this.invite = invite
    invite.on('confirmation', confirmation => this.emit({ type: 'link-confirmation', confirmation }))
    invite.on('passphrase-needed', r => this.emit({ type: 'link-passphrase-needed', wrongAttempts: r.wrongAttempts, retryAfterMs: r.retryAfterMs }))
    invite.done.then(
      () => this.emit({ type: 'linked', accountId: this.engine.accountId }),
      err => {
        if (this.invite === invite) this.emit({ type: 'link-failed', error: errorBody(err) })
      }
    )
    return { text: invite.text, expiresAt: invite.expiresAt, qr: { terminal: invite.qr('terminal'), svg: invite.qr('svg') } }
  }

  private confirmLink(ok: unknown): null {
    if (typeof ok !== 'boolean') throw new InvalidArgumentError('confirmLink(ok): ok must be true or false')
    if (!this.question.answer(ok)) throw new EngineStateError('no link is waiting for a confirmation')
    return null
  }
}
