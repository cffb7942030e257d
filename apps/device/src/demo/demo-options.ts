import { resolve } from 'node:path'
import { Command, InvalidArgumentError, Option } from 'commander'

export interface DemoOptions {
  /** Where the relay's and every device's data live between runs. */
  dir: string
  fresh: boolean
  lan: boolean
  /** The app's HTTP port on 127.0.0.1 (0: any free one). */
  appPort: number
  /** The relay's TCP port, its WebSocket listener (for browsers) on the next one (0: any free ones). */
  relayPort: number
  json: boolean
}

const port = (value: string): number => {
  const n = Number(value)
  if (!Number.isSafeInteger(n) || n < 0 || n > 65534) throw new InvalidArgumentError('a port number from 0 (any free one) to 65534')
  return n
}

/**
 * `npm start [-- flags]`. Fixed ports by default so the printed page URLs (and a browser
 * device's stored relay address) stay the same from one run to the next.
 */
export function parseDemoOptions(argv: string[]): DemoOptions {
  const program = new Command('npm start --')
    .description('The Tandem demo: a relay, the chat app, and Alice (laptop and phone) and Bob as device processes, ready to chat.')
    .addOption(new Option('--dir <path>', 'where the demo keeps its data between runs').env('TANDEM_DEMO_DIR').default('.tandem-demo'))
    .addOption(new Option('--fresh', 'erase the demo data and set it up again').default(false))
    .addOption(new Option('--lan', 'let the devices find each other on the LAN with mDNS (off by default)').default(false))
    .addOption(new Option('--app-port <port>', 'HTTP port of the chat app on 127.0.0.1').argParser(port).default(4710))
    .addOption(new Option('--relay-port <port>', "the relay's TCP port on 127.0.0.1 (WebSockets on the next)").argParser(port).default(4711))
    .addOption(new Option('--json', 'print the URLs and process ids as one JSON line (for scripts)').default(false))
  program.parse(argv)
  const o = program.opts<DemoOptions>()
  return { ...o, dir: resolve(o.dir) }
}
