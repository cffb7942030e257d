/** Origin of updates applied from a relay's stream: they are (or are about to be) in its log, never uploaded back. */
export class RelayOrigin {
  constructor(readonly relayId: string) {}
}
