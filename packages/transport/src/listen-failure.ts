/**
 * libp2p's "Some configured addresses failed to be listened on, you may need to … set
 * `transportManager.faultTolerance`…" (with a stack trace per address inside the message) as
 * one sentence a person can act on: "cannot listen on /ip4/…/tcp/4001: address already in use
 * 127.0.0.1:4001". Devices and the relay both say it this way.
 */
export function describeListenFailure(err: unknown): string {
  const message = String((err as Error)?.message ?? err)
  const failed = [...message.matchAll(/^\s*(\/\S+): (?:\w*Error: )?([^\n]+)$/gm)].map(m => `${m[1]}: ${m[2]!.replace(/^listen \w+: /, '')}`)
  return failed.length > 0 ? `cannot listen on ${failed.join('; ')}` : `cannot start the network: ${message.split('\n')[0]}`
}
