import { Command, InvalidArgumentError, Option } from 'commander'

export interface DeviceOptions {
  data: string
  listen: string[]
  peer: string[]
  relay: string[]
  direct: boolean
  mdns: boolean
  /** Which older history the device fetches by itself: all of it, or only as the person scrolls back. */
  history: 'all' | 'recent'
  name?: string
  control: boolean
  sync: boolean
  /** Serve the remote device API on 127.0.0.1 at this port (0: any free one); undefined: no API. */
  http?: number
  /** The web origins whose pages may call the API (CORS): `--http-origin`, repeated or comma-separated. */
  httpOrigin: string[]
  /** Machine-readable output: one JSON value per answer (subcommands), the API's address and token at start. */
  json: boolean
  /** Logs (JSON lines) on stderr instead of the log file in the data dir. */
  verbose: boolean
}

/** What to do once the device is open: run it (the prompt or --control), or one of the subcommands. */
export type DeviceTask =
  | { kind: 'run' }
  | { kind: 'link'; code?: string; ttlMs?: number; exit: boolean; yes: boolean }
  | { kind: 'chats' }
  | { kind: 'send'; chat: string; text: string }
  | { kind: 'read'; chat: string; limit: number }
  | { kind: 'invite'; accept?: string }
  | { kind: 'status' }
  | { kind: 'devices' }
  | { kind: 'revoke'; peerId: string }
  | { kind: 'passphrase'; remove: boolean }
  | { kind: 'recover'; accountId: string; exit: boolean }
  | { kind: 'recovery-phrase' }
  | { kind: 'export'; chatId: string; format: 'json' | 'html'; out?: string }
  | { kind: 'search'; query: string; chatId?: string; limit?: number }

const collect = (value: string, previous: string[]): string[] => [...previous, value]

/**
 * `--http-origin`, repeatable, each one or several separated by commas (so TANDEM_HTTP_ORIGIN
 * can name several too): each a web origin as a browser sends it in `Origin`, scheme, host and
 * port (a trailing / is dropped). A page at http://localhost:4710 and one at
 * http://127.0.0.1:4710 are two origins to a browser, though the same server.
 */
const origins = (value: string, previous: string[]): string[] => {
  const given = value
    .split(',')
    .map(v => v.trim())
    .filter(v => v !== '')
  if (given.length === 0) throw new InvalidArgumentError('a web origin such as http://localhost:4710 (several: repeat the option, or separate them by commas)')
  return [...previous, ...given.map(webOrigin)]
}

const webOrigin = (value: string): string => {
  const wrong = new InvalidArgumentError(`"${value}" is not a web origin: give its scheme, host and port only, such as http://localhost:4710`)
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw wrong
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.pathname !== '/' || url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '')
    throw wrong
  return url.origin
}

const seconds = (value: string): number => {
  const n = Number(value)
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('a number of seconds above 0')
  return Math.round(n * 1000)
}

const port = (value: string): number => {
  const n = Number(value)
  if (!Number.isSafeInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('a port number from 0 (any free one) to 65535')
  return n
}

const whole = (value: string): number => {
  const n = Number(value)
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('a whole number above 0')
  return n
}

/**
 * Parses `tandem-device` flags and its subcommand; every flag also reads a TANDEM_* env var.
 * The device flags belong to the program, so they go before or after a subcommand alike
 * (`tandem-device link --data d` and `tandem-device --data d link`).
 */
export function parseOptions(argv: string[]): { options: DeviceOptions; task: DeviceTask } {
  let task: DeviceTask = { kind: 'run' }
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
    .addOption(
      new Option('--history <which>', "a long chat's older history: fetch 'all' of it, or only the 'recent' part (a metered network)")
        .choices(['all', 'recent'])
        .env('TANDEM_HISTORY')
        .default('all')
    )
    .addOption(new Option('--no-sync', 'do not fsync each write batch (faster, survives crashes but not power loss)'))
    .addOption(
      new Option('--http [port]', 'serve the device API (POST /rpc, GET /events) on 127.0.0.1, token-protected (default port: any free one)')
        .env('TANDEM_HTTP')
        .argParser(port)
        .preset(0)
    )
    .addOption(
      new Option('--http-origin <url>', 'a web page origin allowed to call the device API from a browser (CORS); repeatable, or several separated by commas')
        .env('TANDEM_HTTP_ORIGIN')
        .argParser(origins)
        .default([])
    )
    .addOption(new Option('--json', 'machine-readable output: JSON instead of sentences').default(false))
    .addOption(new Option('--verbose', 'write the logs (JSON lines) to stderr instead of device.log in the data dir').default(false))
    .action(() => {
      task = { kind: 'run' }
    })
  program
    .command('link')
    .description(
      'link two devices by code. On the new device (no --code): shows a code as a QR and as text, then the six digits to compare; ' +
        'on a device of the account: --code reads it, shows the digits and the new device, and asks you to confirm. ' +
        'Both then keep running as the device (the chat prompt) unless --exit.'
    )
    .option('--code <text>', 'the code the new device shows (tandem1-…): link that device to this account')
    .option('--ttl <seconds>', 'how long the shown code stays valid (default 300, at most 3600)', seconds)
    .option('--exit', 'exit once linked instead of running as the device', false)
    .option('--yes', 'with --code on a running device: link without asking (the six digits are still shown)', false)
    .action((o: { code?: string; ttl?: number; exit: boolean; yes: boolean }) => {
      task = { kind: 'link', code: o.code, ttlMs: o.ttl, exit: o.exit, yes: o.yes }
    })
  program
    .command('chats')
    .description('list the chats of the running device (--http): number, title, unread, last message')
    .action(() => {
      task = { kind: 'chats' }
    })
  program
    .command('send')
    .description('send a message from the running device (--http)')
    .argument('<chat>', 'the chat: its number in `chats`, its id, or its title')
    .argument('<words...>', 'the text')
    .action((chat: string, words: string[]) => {
      task = { kind: 'send', chat, text: words.join(' ') }
    })
  program
    .command('read')
    .description("show a chat's newest messages on the running device (--http), with the ticks of yours, and mark them read")
    .argument('<chat>', 'the chat: its number in `chats`, its id, or its title')
    .option('--limit <n>', 'how many (default 20)', whole, 20)
    .action((chat: string, o: { limit: number }) => {
      task = { kind: 'read', chat, limit: o.limit }
    })
  program
    .command('invite')
    .description('show an invite to chat with this account (QR and text), or --accept one: on the running device (--http)')
    .option('--accept <invite>', "accept another account's invite (tandeminvite1-…): a 1:1 chat with them opens")
    .action((o: { accept?: string }) => {
      task = { kind: 'invite', accept: o.accept }
    })
  program
    .command('status')
    .description('the running device (--http): its account, relays, connected devices, API address')
    .action(() => {
      task = { kind: 'status' }
    })
  program
    .command('devices')
    .description("list the account's devices: name, platform, when linked, when last active")
    .action(() => {
      task = { kind: 'devices' }
    })
  program
    .command('revoke')
    .description('revoke a device of the account for good (it erases the account when it learns)')
    .argument('<peerId>', 'the device, as `devices` lists it')
    .action((peerId: string) => {
      task = { kind: 'revoke', peerId }
    })
  program
    .command('passphrase')
    .description('set the passphrase a new device must also give to be linked (asked twice), or remove it')
    .option('--remove', 'remove the passphrase', false)
    .action((o: { remove: boolean }) => {
      task = { kind: 'passphrase', remove: o.remove }
    })
  program
    .command('recover')
    .description(
      'make this fresh device a device of an account again with its recovery phrase (asked), needs the relay that holds it; then keeps running as the device unless --exit'
    )
    .requiredOption('--account <id>', 'the account id')
    .option('--exit', 'exit once recovered instead of running as the device', false)
    .action((o: { account: string; exit: boolean }) => {
      task = { kind: 'recover', accountId: o.account, exit: o.exit }
    })
  program
    .command('recovery-phrase')
    .description('make a new recovery phrase for the account (the old one stops working) and show it once')
    .action(() => {
      task = { kind: 'recovery-phrase' }
    })
  program
    .command('export')
    .description("write a chat's every message (authors, devices, times, texts, edits, reactions) as a readable HTML page or as JSON")
    .requiredOption('--chat <id>', 'the chat id')
    .addOption(new Option('--format <format>', 'html: one self-contained page; json: the data').choices(['html', 'json']).default('html'))
    .option('--out <file>', 'the file to write (default: standard output)')
    .action((o: { chat: string; format: 'json' | 'html'; out?: string }) => {
      task = { kind: 'export', chatId: o.chat, format: o.format, out: o.out }
    })
  program
    .command('search')
    .description('find messages holding every word (each a prefix: "hel" finds "hello"), newest first')
    .argument('<words...>', 'the words to find')
    .option('--chat <id>', "only this chat's messages")
    .option('--limit <n>', 'at most this many (default 50, at most 1000)', whole)
    .action((words: string[], o: { chat?: string; limit?: number }) => {
      task = { kind: 'search', query: words.join(' '), chatId: o.chat, limit: o.limit }
    })
  program.parse(argv)
  const options = program.opts<DeviceOptions>()
  if (options.control && task.kind !== 'run') program.error('error: --control runs the device for scripts (JSON commands); the subcommands are for people')
  return { options, task }
}
