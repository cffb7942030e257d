#!/usr/bin/env node
import '@tandem/relay/polyfill'
import { createLogger, createRelay, startHttpServer, type RelayLimits } from '@tandem/relay'
import { parseOptions } from './options.js'

const options = parseOptions(process.argv)
const log = createLogger({ level: options.logLevel })

const limits: Partial<RelayLimits> = {}
if (options.maxConnections !== undefined) limits.maxConnections = options.maxConnections
if (options.maxPendingConnections !== undefined) limits.maxIncomingPendingConnections = options.maxPendingConnections
if (options.maxPendingPerAddress !== undefined) limits.maxPendingConnectionsPerAddress = options.maxPendingPerAddress
if (options.handshakeTimeoutMs !== undefined) limits.inboundUpgradeTimeoutMs = options.handshakeTimeoutMs
if (options.maxReservations !== undefined) limits.maxReservations = options.maxReservations
if (options.reservationHelloWaitMs !== undefined) limits.reservationHelloWaitMs = options.reservationHelloWaitMs
if (options.maxCircuits !== undefined) limits.maxCircuits = options.maxCircuits
if (options.relayDataLimitBytes !== undefined) limits.relayedDataLimitBytes = options.relayDataLimitBytes
if (options.relayDurationMs !== undefined) limits.relayedDurationLimitMs = options.relayDurationMs
if (options.keepAliveMs !== undefined) limits.connectionPingIntervalMs = options.keepAliveMs
if (options.keepAliveTimeoutMs !== undefined) limits.connectionPingTimeoutMs = options.keepAliveTimeoutMs

// a stray rejection inside a library must not take the relay (and every
// account's history) down; an uncaught exception still does, after logging
process.on('unhandledRejection', err => {
  log.error({ err }, 'unhandled rejection')
})

let relay: Awaited<ReturnType<typeof createRelay>>
let http: Awaited<ReturnType<typeof startHttpServer>> | null = null
try {
  relay = await createRelay({
    dataDir: options.data,
    listen: options.listen,
    announce: options.announce,
    limits,
    accountQuotaBytes: options.accountQuotaBytes,
    maxDevices: options.maxDevices,
    ...(options.maxBlobBytes !== undefined ? { maxBlobBytes: options.maxBlobBytes } : {}),
    logger: log
  })
  await relay.start()
} catch (err) {
  log.fatal({ err }, 'relay failed to start')
  const code = (err as { code?: unknown })?.code
  process.stderr.write(`tandem-relay: ${err instanceof Error ? err.message : String(err)}${typeof code === 'string' ? ` (${code})` : ''}\n`)
  process.exit(1)
}

let stopping = false
const stop = async (signal: string): Promise<void> => {
  if (stopping) {
    log.warn({ signal }, 'second signal: exiting without a clean stop')
    process.exit(1)
  }
  stopping = true
  log.info({ signal }, 'stopping relay')
  let code = 0
  try {
    await relay.stop() // flushes and closes the history store
  } catch (err) {
    log.error({ err }, 'relay did not stop cleanly')
    code = 1
  }
  try {
    await http?.close()
  } catch (err) {
    log.error({ err }, 'http server did not close cleanly')
  }
  log.info('relay stopped')
  process.exit(code)
}
process.on('SIGTERM', () => {
  void stop('SIGTERM')
})
process.on('SIGINT', () => {
  void stop('SIGINT')
})

if (options.http !== null) {
  try {
    http = await startHttpServer({ host: options.http.host, port: options.http.port, metrics: relay.metrics, health: () => relay.health() })
  } catch (err) {
    log.fatal({ err, http: options.http }, 'http server failed to start')
    process.stderr.write(`tandem-relay: cannot serve http on ${options.http.host}:${options.http.port}: ${err instanceof Error ? err.message : String(err)}\n`)
    await relay.stop().catch(() => {})
    process.exit(1)
  }
}

// where it listens, and, when told to announce other addresses, those too: with --announce
// libp2p reports only what it announces, and a listener left out of it (a /ws port) went unseen
const listening = relay.listenAddrs()
const announcing = options.announce.length > 0 ? relay.multiaddrs() : []
const lines = [`peer id: ${relay.peerId}`, ...listening.map(a => `listening: ${a}`), ...announcing.map(a => `announcing: ${a}`)]
if (http !== null) lines.push(`http: ${http.url} (/healthz, /metrics)`)
process.stdout.write(`${lines.join('\n')}\n`)
log.info({ peerId: relay.peerId, listening, announcing, http: http?.url ?? null }, 'relay started')
