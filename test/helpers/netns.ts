import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'

/**
 * A network namespace of the test's own (`ip netns`), holding only a loopback
 * interface with multicast routed to it: mDNS inside it never leaves the machine.
 */
export class NetNamespace {
  private constructor(readonly name: string) {}

  static create(prefix = 'tandem'): NetNamespace {
    const name = `${prefix}-${randomBytes(4).toString('hex')}`
    execFileSync('ip', ['netns', 'add', name])
    const ns = new NetNamespace(name)
    try {
      ns.exec(['ip', 'link', 'set', 'lo', 'up'])
      ns.exec(['ip', 'link', 'set', 'lo', 'multicast', 'on'])
      ns.exec(['ip', 'route', 'add', '224.0.0.0/4', 'dev', 'lo'])
    } catch (err) {
      ns.destroy()
      throw err
    }
    return ns
  }

  /** The argv prefix that runs a command inside this namespace. */
  wrap(command: string[]): string[] {
    return ['ip', 'netns', 'exec', this.name, ...command]
  }

  exec(command: string[]): string {
    return execFileSync('ip', ['netns', 'exec', this.name, ...command], { encoding: 'utf8' })
  }

  destroy(): void {
    try {
      execFileSync('ip', ['netns', 'del', this.name])
    } catch {
      /* already gone */
    }
  }
}
