import { LinkQuestion } from './link-question.js'
import type { Engine, LinkInvite } from '@tandem/engine'

/**
 * The `--control` commands for linking, passphrases and recovery: what `tandem-device link`,
 * `passphrase` and `recover` do for a person, as JSON for tests and scripts.
 *
 * New device: `show-link-code` {ttlMs?, qr?} → {text, expiresAt, qr?}, then the events
 * `link-confirmation` {digits}, `passphrase-needed` {wrongAttempts, retryAfterMs} (answer
 * with `enter-passphrase` {passphrase}), and `linked` {accountId, name} or `link-failed`
 * {code, message}; `cancel-link` declines. Existing device: `link-device` {code, confirm:
 * 'auto' | 'ask'} → {peerId, name}; with 'ask' it emits `link-confirm` {digits, name,
 * platform, peerId} and waits for `confirm-link` {accept} (or `link-confirm-closed` when the
 * session ended first). Also `set-passphrase` {passphrase | null}, `recover` {accountId,
 * recoveryPhrase, revokeOtherDevices?}, `set-recovery-phrase` → {recoveryPhrase}.
 */
type Command = { cmd: string } & Record<string, unknown>
type Write = (obj: unknown) => void

const badCommand = (message: string): Error => Object.assign(new Error(message), { code: 'ERR_BAD_COMMAND' })
const errorJson = (err: unknown) => ({ code: (err as { code?: string }).code ?? 'ERR_INTERNAL', message: (err as Error)?.message ?? String(err) })

export class LinkControl {
  /** Commands that wait for another command (`confirm-link`) or a person's pace: they run beside the in-order queue. */
  static readonly BACKGROUND = new Set(['link-device', 'enter-passphrase'])
  private invite: LinkInvite | null = null
  /** Emits the digits as `link-confirm` and waits for `confirm-link`; a session that ends first closes the question. */
  private readonly question = new LinkQuestion({
    asked: ({ confirmation, ...info }) => this.write({ event: 'link-confirm', digits: confirmation, ...info }),
    closed: peerId => this.write({ event: 'link-confirm-closed', peerId })
  })

  constructor(
    private readonly engine: Engine,
    private readonly write: Write
  ) {}

  handles(cmd: string): boolean {
    return COMMANDS.has(cmd)
  }

  async run(c: Command): Promise<unknown> {
    const engine = this.engine
    switch (c.cmd) {
      case 'show-link-code':
        return await this.showCode(c)
      case 'enter-passphrase':
        if (this.invite === null) throw badCommand('enter-passphrase: no link code is shown (show-link-code first)')
        await this.invite.enterPassphrase(text(c, 'passphrase'))
        return null
      case 'cancel-link':
        this.invite?.cancel()
        return null
      case 'link-device':
        return await this.linkDevice(text(c, 'code'), c.confirm ?? 'auto')
      case 'confirm-link': {
        if (typeof c.accept !== 'boolean') throw badCommand('confirm-link: "accept" must be true or false')
        if (!this.question.answer(c.accept)) throw badCommand('confirm-link: no link is waiting for a confirmation')
        return null
      }
      case 'set-passphrase':
        if (c.passphrase !== null && typeof c.passphrase !== 'string') throw badCommand('set-passphrase: "passphrase" must be a string, or null to remove it')
        await engine.setPassphrase(c.passphrase)
        return null
      case 'recover':
        return await engine.recoverAccount({
          accountId: text(c, 'accountId'),
          recoveryPhrase: text(c, 'recoveryPhrase'),
          ...(typeof c.revokeOtherDevices === 'boolean' ? { revokeOtherDevices: c.revokeOtherDevices } : {})
        })
      case 'set-recovery-phrase':
        return { recoveryPhrase: await engine.setRecoveryPhrase() }
      default:
        throw badCommand(`unknown command ${c.cmd}`)
    }
  }

  private async showCode(c: Command): Promise<{ text: string; expiresAt: number; qr?: string }> {
    if (c.ttlMs !== undefined && typeof c.ttlMs !== 'number') throw badCommand('show-link-code: "ttlMs" must be a number')
    const invite = await this.engine.showLinkCode(c.ttlMs === undefined ? {} : { ttlMs: c.ttlMs })
    this.invite = invite
    invite.on('confirmation', digits => this.write({ event: 'link-confirmation', digits }))
    invite.on('passphrase-needed', r => this.write({ event: 'passphrase-needed', wrongAttempts: r.wrongAttempts, retryAfterMs: r.retryAfterMs }))
    invite.done.then(
      () => this.write({ event: 'linked', accountId: this.engine.accountId, name: this.engine.accountInfo?.name ?? null }),
      err => {
        // a code replaced by a newer one ends quietly: the script asked for that
        if (this.invite === invite) this.write({ event: 'link-failed', ...errorJson(err) })
      }
    )
    return { text: invite.text, expiresAt: invite.expiresAt, ...(c.qr === true ? { qr: invite.qr('terminal') } : {}) }
  }

  private async linkDevice(code: string, confirm: unknown): Promise<{ peerId: string; name: string }> {
    if (confirm !== 'auto' && confirm !== 'ask') throw badCommand('link-device: "confirm" must be "auto" or "ask"')
    return await this.engine.linkDevice(code, { confirm: info => (confirm === 'auto' ? Promise.resolve(true) : this.question.ask(info)) })
  }
}

const COMMANDS = new Set(['show-link-code', 'enter-passphrase', 'cancel-link', 'link-device', 'confirm-link', 'set-passphrase', 'recover', 'set-recovery-phrase'])

function text(c: Command, k: string): string {
  const v = c[k]
  if (typeof v !== 'string') throw badCommand(`${c.cmd}: "${k}" must be a string`)
  return v
}
