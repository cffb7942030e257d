import { DEFAULT_ACCOUNT_QUOTA_BYTES, DEFAULT_MAX_BLOB_BYTES, DEFAULT_MAX_DEVICES, DEFAULT_RELAY_LIMITS, MAX_CHAIN_DEVICES } from '@tandem/relay'
import { Command, InvalidArgumentError, Option } from 'commander'

export const DEFAULT_LISTEN = ['/ip4/0.0.0.0/tcp/4001', '/ip4/0.0.0.0/tcp/4002/ws']
export const DEFAULT_HTTP = '127.0.0.1:9090'
export { DEFAULT_ACCOUNT_QUOTA_BYTES }

export interface RelayCliOptions {
  data: string
  listen: string[]
  announce: string[]
  /** null: no HTTP endpoint (`--http off`). */
  http: { host: string; port: number } | null
  logLevel: string
  maxBlobBytes?: number
  accountQuotaBytes: number
  /** Most devices an account may list (links that add one beyond it are refused). */
  maxDevices: number
  maxConnections?: number
  maxPendingConnections?: number
  maxPendingPerAddress?: number
  handshakeTimeoutMs?: number
  maxReservations?: number
  reservationHelloWaitMs?: number
  maxCircuits?: number
  relayDataLimitBytes?: number
  relayDurationMs?: number
  /** Ping a connection quiet this long (connectionPingIntervalMs). */
  keepAliveMs?: number
  /** Drop it when the pong takes longer (connectionPingTimeoutMs). */
  keepAliveTimeoutMs?: number
}

const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1e3,
  kb: 1e3,
  m: 1e6,
  mb: 1e6,
  g: 1e9,
  gb: 1e9,
  t: 1e12,
  tb: 1e12,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4
}

/** 1073741824 → "1GiB" (for help text). */
export function formatBytes(n: number): string {
  for (const [unit, size] of [
    ['TiB', 1024 ** 4],
    ['GiB', 1024 ** 3],
    ['MiB', 1024 ** 2],
    ['KiB', 1024]
  ] as const) {
    if (n >= size && n % size === 0) return `${n / size}${unit}`
  }
  return String(n)
}

/** "1048576", "512MiB", "1 GiB", "10GB" → bytes (binary units for *iB, decimal otherwise). */
export function parseBytes(value: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(value)
  const unit = UNITS[(m?.[2] ?? '').toLowerCase()]
  if (m === null || unit === undefined) throw new InvalidArgumentError(`not a size: "${value}" (try 1048576, 512MiB, 1GiB)`)
  const n = Math.round(Number(m[1]) * unit)
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError(`size out of range: "${value}"`)
  return n
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, min: 60_000, h: 3_600_000 }

/** "90s", "30m", "4h", "1500ms" → milliseconds; a bare number is seconds. */
export function parseDuration(value: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|min|h)?\s*$/.exec(value)
  if (m === null) throw new InvalidArgumentError(`not a duration: "${value}" (try 90s, 30m, 4h)`)
  const ms = Math.round(Number(m[1]) * (DURATION_UNITS[m[2] ?? 's'] ?? 1_000))
  if (!Number.isSafeInteger(ms) || ms < 1) throw new InvalidArgumentError(`duration out of range: "${value}"`)
  return ms
}

function parseCount(value: string): number {
  const n = Number(value)
  if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError(`not a positive integer: "${value}"`)
  return n
}

/** "127.0.0.1:9090", "[::1]:9090", ":9090" (all interfaces), "off" → where to serve /healthz and /metrics. */
export function parseHostPort(value: string): { host: string; port: number } | null {
  if (value.trim().toLowerCase() === 'off') return null
  const m = /^\s*(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})\s*$/.exec(value)
  const port = Number(m?.[3])
  if (m === null || port > 65_535) throw new InvalidArgumentError(`not HOST:PORT: "${value}" (try 127.0.0.1:9090, or off)`)
  const host = m[1] ?? m[2] ?? ''
  return { host: host === '' ? '0.0.0.0' : host, port }
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value]
const splitList = (value: string | undefined): string[] =>
  (value ?? '')
    .split(',')
    .map(s => s.trim())
    .filter(s => s !== '')

/**
 * Parses `tandem-relay` flags. Every flag also reads a TANDEM_RELAY_* env var
 * (a flag given on the command line wins); repeatable flags read a
 * comma-separated list.
 */
export function parseOptions(argv: string[]): RelayCliOptions {
  const env = process.env
  const program = new Command('tandem-relay')
    .description('Run a Tandem relay node: the blind cloud history of every account that uses it, and a libp2p circuit relay for devices behind NAT.')
    .addOption(new Option('--data <dir>', 'data directory (history store, relay key)').env('TANDEM_RELAY_DATA').makeOptionMandatory())
    .addOption(
      new Option('--listen <multiaddr>', `address to listen on, repeatable (env: TANDEM_RELAY_LISTEN, comma-separated; default: ${DEFAULT_LISTEN.join(' and ')})`).argParser(
        collect
      )
    )
    .addOption(
      new Option('--announce <multiaddr>', 'public address to advertise instead of the listen addresses, repeatable (env: TANDEM_RELAY_ANNOUNCE, comma-separated)').argParser(
        collect
      )
    )
    .addOption(new Option('--http <host:port>', 'where to serve /healthz and /metrics, or "off"').env('TANDEM_RELAY_HTTP').default(DEFAULT_HTTP))
    .addOption(
      new Option('--log-level <level>', 'log level (JSON lines on stderr)')
        .env('TANDEM_RELAY_LOG_LEVEL')
        .choices(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'])
        .default('info')
    )
    .addOption(
      new Option('--max-blob-bytes <size>', `largest blob (or snapshot) a device may store (default: ${formatBytes(DEFAULT_MAX_BLOB_BYTES)})`)
        .env('TANDEM_RELAY_MAX_BLOB_BYTES')
        .argParser(parseBytes)
    )
    .addOption(
      new Option('--account-quota <size>', 'bytes of history stored per account, e.g. 1GiB')
        .env('TANDEM_RELAY_ACCOUNT_QUOTA')
        .argParser(parseBytes)
        .default(DEFAULT_ACCOUNT_QUOTA_BYTES, formatBytes(DEFAULT_ACCOUNT_QUOTA_BYTES))
    )
    .addOption(
      new Option('--max-devices <n>', `devices one account may list at once; a link adding one more is refused (1 to ${MAX_CHAIN_DEVICES})`)
        .env('TANDEM_RELAY_MAX_DEVICES')
        .argParser(value => {
          const n = parseCount(value)
          if (n > MAX_CHAIN_DEVICES) throw new InvalidArgumentError(`at most ${MAX_CHAIN_DEVICES}: "${value}"`)
          return n
        })
        .default(DEFAULT_MAX_DEVICES)
    )
    .addOption(
      new Option('--max-connections <n>', `libp2p connections (≈ devices online at once; default ${DEFAULT_RELAY_LIMITS.maxConnections})`)
        .env('TANDEM_RELAY_MAX_CONNECTIONS')
        .argParser(parseCount)
    )
    .addOption(
      new Option(
        '--max-pending-connections <n>',
        `inbound connections in their handshake at once; more are refused (default ${DEFAULT_RELAY_LIMITS.maxIncomingPendingConnections})`
      )
        .env('TANDEM_RELAY_MAX_PENDING_CONNECTIONS')
        .argParser(parseCount)
    )
    .addOption(
      new Option(
        '--max-pending-per-address <n>',
        `inbound connections in their handshake at once from one address (IPv4, IPv6 /64) (default ${DEFAULT_RELAY_LIMITS.maxPendingConnectionsPerAddress})`
      )
        .env('TANDEM_RELAY_MAX_PENDING_PER_ADDRESS')
        .argParser(parseCount)
    )
    .addOption(
      new Option('--handshake-timeout <duration>', `a new connection must finish its handshake within this (default ${DEFAULT_RELAY_LIMITS.inboundUpgradeTimeoutMs / 1000}s)`)
        .env('TANDEM_RELAY_HANDSHAKE_TIMEOUT')
        .argParser(parseDuration)
    )
    .addOption(
      new Option('--max-reservations <n>', `circuit relay reservations (devices reachable through the relay; default ${DEFAULT_RELAY_LIMITS.maxReservations})`)
        .env('TANDEM_RELAY_MAX_RESERVATIONS')
        .argParser(parseCount)
    )
    .addOption(
      new Option(
        '--reservation-hello-wait <duration>',
        `how long a reservation request waits for its device's hello before it is refused (default ${DEFAULT_RELAY_LIMITS.reservationHelloWaitMs / 1000}s)`
      )
        .env('TANDEM_RELAY_RESERVATION_HELLO_WAIT')
        .argParser(parseDuration)
    )
    .addOption(
      new Option('--max-circuits <n>', `relayed connections open through the relay at once (every path to a browser device is one; default ${DEFAULT_RELAY_LIMITS.maxCircuits})`)
        .env('TANDEM_RELAY_MAX_CIRCUITS')
        .argParser(parseCount)
    )
    .addOption(
      new Option(
        '--relay-data-limit <size>',
        `bytes one relayed connection may carry, both directions together (default ${formatBytes(DEFAULT_RELAY_LIMITS.relayedDataLimitBytes)})`
      )
        .env('TANDEM_RELAY_DATA_LIMIT')
        .argParser(parseBytes)
    )
    .addOption(
      new Option('--relay-duration <duration>', `how long one relayed connection may stay open, e.g. 30m (default ${DEFAULT_RELAY_LIMITS.relayedDurationLimitMs / 3_600_000}h)`)
        .env('TANDEM_RELAY_DURATION')
        .argParser(parseDuration)
    )
    .addOption(
      new Option(
        '--keepalive <duration>',
        `ping a connection that has sent nothing for this long, and drop it if the pong does not come (under 2m; default ${DEFAULT_RELAY_LIMITS.connectionPingIntervalMs / 1000}s)`
      )
        .env('TANDEM_RELAY_KEEPALIVE')
        .argParser(parseDuration)
    )
    .addOption(
      new Option('--keepalive-timeout <duration>', `how long a keep-alive ping waits for its pong (default ${DEFAULT_RELAY_LIMITS.connectionPingTimeoutMs / 1000}s)`)
        .env('TANDEM_RELAY_KEEPALIVE_TIMEOUT')
        .argParser(parseDuration)
    )
    .showHelpAfterError()

  program.parse(argv)
  const o = program.opts<{
    data: string
    listen?: string[]
    announce?: string[]
    http: string
    logLevel: string
    maxBlobBytes?: number
    accountQuota: number
    maxDevices: number
    maxConnections?: number
    maxPendingConnections?: number
    maxPendingPerAddress?: number
    handshakeTimeout?: number
    maxReservations?: number
    reservationHelloWait?: number
    maxCircuits?: number
    relayDataLimit?: number
    relayDuration?: number
    keepalive?: number
    keepaliveTimeout?: number
  }>()
  if (o.data.trim() === '') program.error("error: required option '--data <dir>' not specified (or TANDEM_RELAY_DATA is empty)")
  let http: RelayCliOptions['http'] = null
  try {
    http = parseHostPort(o.http)
  } catch (err) {
    program.error(`error: option '--http <host:port>' argument '${o.http}' is invalid. ${(err as Error).message}`)
  }
  const listen = o.listen ?? splitList(env.TANDEM_RELAY_LISTEN)
  return {
    data: o.data,
    listen: listen.length > 0 ? listen : [...DEFAULT_LISTEN],
    announce: o.announce ?? splitList(env.TANDEM_RELAY_ANNOUNCE),
    http,
    logLevel: o.logLevel,
    accountQuotaBytes: o.accountQuota,
    maxDevices: o.maxDevices,
    ...(o.maxBlobBytes !== undefined ? { maxBlobBytes: o.maxBlobBytes } : {}),
    ...(o.maxConnections !== undefined ? { maxConnections: o.maxConnections } : {}),
    ...(o.maxPendingConnections !== undefined ? { maxPendingConnections: o.maxPendingConnections } : {}),
    ...(o.maxPendingPerAddress !== undefined ? { maxPendingPerAddress: o.maxPendingPerAddress } : {}),
    ...(o.handshakeTimeout !== undefined ? { handshakeTimeoutMs: o.handshakeTimeout } : {}),
    ...(o.maxReservations !== undefined ? { maxReservations: o.maxReservations } : {}),
    ...(o.reservationHelloWait !== undefined ? { reservationHelloWaitMs: o.reservationHelloWait } : {}),
    ...(o.maxCircuits !== undefined ? { maxCircuits: o.maxCircuits } : {}),
    ...(o.relayDataLimit !== undefined ? { relayDataLimitBytes: o.relayDataLimit } : {}),
    ...(o.relayDuration !== undefined ? { relayDurationMs: o.relayDuration } : {}),
    ...(o.keepalive !== undefined ? { keepAliveMs: o.keepalive } : {}),
    ...(o.keepaliveTimeout !== undefined ? { keepAliveTimeoutMs: o.keepaliveTimeout } : {})
  }
}
