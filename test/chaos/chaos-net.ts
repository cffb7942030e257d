// The chaos test's own network: a hub namespace with a bridge (the relay listens on the bridge's
// address) and one namespace per device, each joined to the hub by a veth pair. Everything lives
// in namespaces this file creates; nothing touches the host's network.
import { execFileSync } from 'node:child_process'
import { NetNamespace } from '../helpers/netns.js'

/** 10.231.0.0/24 inside the test's namespaces only: the hub bridge is .1, device i is .(11 + i). */
export const HUB_ADDR = '10.231.0.1'
export const deviceAddr = (i: number): string => `10.231.0.${11 + i}`

const ip = (args: string[]): string => execFileSync('ip', args, { encoding: 'utf8' })

export interface DeviceLink {
  ns: NetNamespace
  addr: string
  /** the veth end inside the device's namespace */
  deviceIf: string
  /** the veth end inside the hub's namespace (a bridge port) */
  hubIf: string
}

export class ChaosNet {
  readonly links: DeviceLink[] = []
  private readonly namespaces: NetNamespace[] = []

  private constructor(readonly hub: NetNamespace) {
    this.namespaces.push(hub)
  }

  static create(): ChaosNet {
    const hub = NetNamespace.create('tandem-chaos-hub')
    const net = new ChaosNet(hub)
    try {
      ip(['-n', hub.name, 'link', 'add', 'br0', 'type', 'bridge'])
      ip(['-n', hub.name, 'addr', 'add', `${HUB_ADDR}/24`, 'dev', 'br0'])
      ip(['-n', hub.name, 'link', 'set', 'br0', 'up'])
    } catch (err) {
      net.destroy()
      throw err
    }
    return net
  }

  /** A new device namespace joined to the hub's bridge; returns its link. */
  addDevice(i: number): DeviceLink {
    const ns = NetNamespace.create(`tandem-chaos-d${i}`)
    this.namespaces.push(ns)
    const hubIf = `vh${i}`
    const deviceIf = 'eth0'
    // created straight inside the two namespaces: the host never sees either end
    ip(['-n', this.hub.name, 'link', 'add', hubIf, 'type', 'veth', 'peer', 'name', deviceIf, 'netns', ns.name])
    ip(['-n', this.hub.name, 'link', 'set', hubIf, 'master', 'br0'])
    ip(['-n', this.hub.name, 'link', 'set', hubIf, 'up'])
    ip(['-n', ns.name, 'addr', 'add', `${deviceAddr(i)}/24`, 'dev', deviceIf])
    ip(['-n', ns.name, 'link', 'set', deviceIf, 'up'])
    const link = { ns, addr: deviceAddr(i), deviceIf, hubIf }
    this.links[i] = link
    return link
  }

  /** Cuts (or heals) device i's link, from the device's side or from the hub's side. */
  setLink(i: number, side: 'device' | 'hub', up: boolean): void {
    const link = this.links[i]!
    const [ns, dev] = side === 'device' ? [link.ns.name, link.deviceIf] : [this.hub.name, link.hubIf]
    ip(['-n', ns, 'link', 'set', dev, up ? 'up' : 'down'])
  }

  /** "link up" or which ends are down, for the timeline. */
  linkState(i: number): string {
    const link = this.links[i]!
    const isUp = (ns: string, dev: string): boolean => /[<,]UP[,>]/.test(ip(['-n', ns, '-br', 'link', 'show', dev])) // administratively up
    const dev = isUp(link.ns.name, link.deviceIf)
    const hub = isUp(this.hub.name, link.hubIf)
    return dev && hub ? 'link up' : `link down on the ${[dev ? '' : 'device', hub ? '' : 'hub'].filter(Boolean).join(' and ')} side`
  }

  /** Every link up on both sides. */
  healAll(): void {
    for (let i = 0; i < this.links.length; i++) {
      if (this.links[i] === undefined) continue
      this.setLink(i, 'device', true)
      this.setLink(i, 'hub', true)
    }
  }

  /** Deleting a namespace deletes its veth ends (and so their peers). Processes must be gone first. */
  destroy(): void {
    for (const ns of this.namespaces.splice(0).reverse()) ns.destroy()
  }
}
