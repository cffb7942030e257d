import { TandemError } from '@tandem/protocol'

/** The store on disk could not be read back (bad snapshot, bad log entry, bad metadata): one class, shared with the relay. */
export { StoreCorruptError } from '@tandem/protocol'

/** An API call made in the wrong state: no account yet, engine stopped, account already set. */
export class EngineStateError extends TandemError {
  constructor(message: string) {
    super('ERR_ENGINE_STATE', message)
  }
}

/** An argument the caller passed is out of bounds or malformed (text too long, bad chat id). */
export class InvalidArgumentError extends TandemError {
  constructor(message: string) {
    super('ERR_INVALID_ARGUMENT', message)
  }
}

/** A change to a chat between accounts by an account that is not (or no longer) one of its members. */
export class NotChatMemberError extends TandemError {
  constructor(message: string) {
    super('ERR_NOT_A_MEMBER', message)
  }
}

/** A blob of a chat carries a message whose author is another account than the one of the device that signed it (never applied). */
export class ForgedAuthorError extends TandemError {
  constructor(message: string) {
    super('ERR_FORGED_AUTHOR', message)
  }
}

/** No chat with that id is known to this account. */
export class UnknownChatError extends TandemError {
  constructor(chatId: string) {
    super('ERR_UNKNOWN_CHAT', `unknown chat ${chatId}`)
  }
}

/** The device's store could not be opened at all (locked, blocked, no storage): nothing was read. */
/** A message id that no loaded segment of the chat holds (never sent, deleted, or of another chat). */
export class UnknownMessageError extends TandemError {
  constructor(chatId: string, messageId: string) {
    super('ERR_UNKNOWN_MESSAGE', `chat ${chatId} has no message ${messageId}`)
  }
}

export class StoreUnavailableError extends TandemError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_STORE_UNAVAILABLE', message, options)
  }
}

/** The device could not listen where it was told to (the port is in use, the address is not this machine's). */
export class ListenError extends TandemError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_LISTEN', message, options)
  }
}

/** A relay's address names one peer id and another answered: the address is stale or wrong. */
export class WrongRelayError extends TandemError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_WRONG_RELAY', message, options)
  }
}

/** No relay this device reaches knows the account (a mistyped account id, or another relay). */
export class UnknownAccountError extends TandemError {
  constructor(message: string) {
    super('ERR_UNKNOWN_ACCOUNT', message)
  }
}

/** What was asked needs a relay, and none answered in time. */
export class RelayUnavailableError extends TandemError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_RELAY_UNAVAILABLE', message, options)
  }
}

/** The new device could not be reached at any address its code lists (nor through this device's relays). */
export class LinkUnreachableError extends TandemError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_LINK_UNREACHABLE', message, options)
  }
}

/**
 * The link session ended before either side finished it: the other device closed the
 * stream or went away, or this device stopped. Nothing was linked by this session; the
 * code it used is spent (single use), so the person shows a new one.
 */
export class LinkInterruptedError extends TandemError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_LINK_INTERRUPTED', message, options)
  }
}
