// The engine's /tandem/link/1.0.0 service: what the engine wires in (LinkService on a LinkHost) and what apps see.
export type { DeviceGrant, DeviceOffer, LinkHost } from './link-host.js'
export { LinkInterruptedError, LinkUnreachableError } from '../errors.js'
export { LinkInvite, type LinkInviteEvents, type PassphraseRequest } from './link-invite.js'
export {
  codeAddresses,
  LINK_DIAL_TIMEOUT_MS,
  LINK_SESSION_TIMEOUT_MS,
  type LinkConfirmation,
  type LinkDeviceOptions,
  LinkService,
  type LinkServiceOptions,
  MAX_INBOUND_LINK_SESSIONS
} from './link-service.js'
