import { Command, Option } from 'commander'

export interface DeviceOptions {
  data: string
  listen: string[]
  peer: string[]
  relay: string[]
  direct: boolean
  mdns: boolean
  name?: string
  control: boolean
  sync: boolean
}

const collect = (value: string, previous: string[]): string[] => [...previous, value]

/** Parses `tandem-device` flags; every flag also reads a TANDEM_* env var. */
export function parseOptions(argv: string[]): DeviceOptions {
  const program = new Command('tandem-device')
    .description("Run one Tandem device: its store, its account, and sync with the account's other devices.")
    .addOption(new Option('--data <dir>', 'data directory (store, device key)').env('TANDEM_DATA').makeOptionMandatory())
    .addOption(new Option('--listen <multiaddr>', 'address to listen on (repeatable)').argParser(collect).default([]))
    .addOption(new Option('--peer <multiaddr>', 'device to dial and keep dialing, with /p2p/<id> (repeatable)').argParser(collect).default([]))
    .addOption(new Option('--relay <multiaddr>', 'relay node for cloud history and circuits, with /p2p/<id> (repeatable)').argParser(collect).default([]))
    .addOption(new Option('--no-direct', 'reach other devices only through a relay circuit, never by a direct dial'))
    .addOption(new Option('--mdns', "find the account's devices on the LAN with mDNS").env('TANDEM_MDNS').default(false))
    .addOption(new Option('--name <name>', "this device's name in the device list").env('TANDEM_DEVICE_NAME'))
    .addOption(new Option('--control', 'speak JSON lines on stdin/stdout (for scripts and tests) instead of the chat prompt').default(false))
    .addOption(new Option('--no-sync', 'do not fsync each write batch (faster, survives crashes but not power loss)'))
    .parse(argv)
  return program.opts<DeviceOptions>()
}
