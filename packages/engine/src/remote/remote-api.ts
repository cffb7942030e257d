/**
 * The remote device API: what a UI in another process (the demo page driving a `tandem-device
 * --http`, the `tandem-device <subcommand>` CLI) may call on a running engine, and the shapes
 * that travel. The server lives in apps/device, the page's client in apps/chat; both import
 * this one list so they cannot drift.
 *
 * Wire (HTTP/1.1 on 127.0.0.1 only, every request with `Authorization: Bearer <token>`, or
 * `?token=` where a browser API cannot set headers, i.e. EventSource):
 * - `POST /rpc` body `{"method": RemoteMethod, "args": [...]}` → 200 `{"result": …}` or
 *   4xx/5xx `{"error": {"code": "ERR_…", "message": "…"}}` (the engine's typed error, as is).
 * - `GET /events` → Server-Sent Events, one `data: <RemoteEvent JSON>` per engine event:
 *   the `EngineEvent` with every `error` as a `RemoteErrorBody` and every `Uint8Array` as
 *   base64, plus the server's own `{"type": "link-confirm", "confirmation": "123456"}`.
 *
 * Some methods are the server's own, not the engine's: `info` → `{ peerId, accountId,
 * account: AccountInfo | null, multiaddrs, relays, peers }`; on the device of the account,
 * `linkDevice(code)` waits while the server emits `link-confirm` {confirmation, name, platform,
 * peerId} and `confirmLink(ok: boolean)` is the person's answer (the engine's confirm
 * callback cannot travel; `link-confirm-closed` {peerId} when the session ended first); on the
 * new device, `showLinkCode(options?)` → `{ text, expiresAt, qr: { terminal, svg } }` (the
 * invite object stays on the server) followed by the events `link-confirmation`
 * {confirmation}, `link-passphrase-needed` {wrongAttempts, retryAfterMs}, then `linked`
 * {accountId} or `link-failed` {error}, answered with `enterPassphrase(text)` and
 * `cancelLink()`. The server is apps/device/src/http (`tandem-device --http`); its errors of
 * its own are ERR_UNAUTHORIZED (401), ERR_INVALID_JSON, ERR_BAD_REQUEST, ERR_UNKNOWN_METHOD,
 * ERR_INVALID_ARGUMENT (400), ERR_NOT_FOUND (404), ERR_METHOD_NOT_ALLOWED (405),
 * ERR_BODY_TOO_LARGE (413, over 1 MiB).
 */

/** Engine methods callable remotely: arguments and results are plain JSON. */
export const REMOTE_METHODS = [
  // account and devices
  'info',
  'createAccount',
  'setProfileName',
  'listDevices',
  'renameDevice',
  'revokeDevice',
  'showLinkCode',
  'enterPassphrase',
  'cancelLink',
  'linkDevice',
  'confirmLink',
  // people
  'createInvite',
  'acceptInvite',
  'listContacts',
  'safetyNumber',
  'createGroup',
  'addMembers',
  'removeMember',
  'renameChat',
  'listMembers',
  // chats and messages
  'createChat',
  'listChats',
  'setDraft',
  'updateChat',
  'sendMessage',
  'listMessages',
  'loadMessages',
  'getMessage',
  'editMessage',
  'react',
  'deleteMessage',
  'deleteForMe',
  'markRead',
  'setTyping',
  'setPresent',
  'presence',
  'searchMessages',
  'exportChat',
  'messageCount',
  'connectedPeers'
] as const

export type RemoteMethod = (typeof REMOTE_METHODS)[number]

export interface RemoteCall {
  method: RemoteMethod
  args: unknown[]
}

/** A typed engine error as it travels: the code is stable, the message a sentence. */
export interface RemoteErrorBody {
  code: string
  message: string
}

export type RemoteReply = { result: unknown } | { error: RemoteErrorBody }

export const isRemoteMethod = (name: unknown): name is RemoteMethod => typeof name === 'string' && (REMOTE_METHODS as readonly string[]).includes(name)
