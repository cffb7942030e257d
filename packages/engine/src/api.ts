// The public API both assemblies (src/node, src/browser) export alongside their own createEngine.
export { Engine } from './core/engine.js'
export type { EngineCoreOptions } from './core/options.js'
export type { AccountInfo } from './account/account-service.js'
export type { EngineEvent, EngineListener } from './events.js'
export type { Message, MessageStatus, ReplyPreview } from './model/message.js'
export type { ChatListEntry } from './chat-list/chat-list.js'
export type { PresenceEntry } from './presence/chat-awareness.js'
export type { MessagePage, SendOptions } from './chat/chat-service.js'
export type { MessageReceipt } from './receipts/message-receipts.js'
export { MAX_MESSAGE_TEXT } from './model/message.js'
export type { ChatEntry } from './model/account-doc.js'
export type { Contact } from './model/people-doc.js'
export type { ShownInvite } from './people/invites.js'
export type { ChatMember } from './people/shared-chats.js'
export type { Invite } from '@tandem/protocol'
export type { SearchOptions } from './search/search-service.js'
export type { ChatExport, ExportedMessage, ExportFormat } from './export/chat-export.js'
export type { ExportOptions } from './export/export-chat.js'
export type { DeviceInfo, DeviceOffer, DeviceGrant } from './account/devices.js'
export type { LinkInvite, LinkInviteEvents, PassphraseRequest } from './linking/link-invite.js'
export type { LinkConfirmation, LinkDeviceOptions } from './linking/link-service.js'
export type { Hlc } from './hlc.js'
export type { NetworkOptions } from './net/libp2p-network.js'
export type { Link, LinkHandlers } from '@tandem/transport'
export type { Runtime } from './runtime.js'
export type { KeyValueStore } from './store/kv.js'
export type { DocStoreOptions } from './store/doc-store.js'
export type { StoreDamageReport } from './store/store-repair.js'
export type { DamagedRecord } from './store/store-damage.js'
export {
  StoreCorruptError,
  StoreUnavailableError,
  EngineStateError,
  InvalidArgumentError,
  UnknownChatError,
  UnknownMessageError,
  ForgedAuthorError,
  NotChatMemberError,
  LinkUnreachableError,
  LinkInterruptedError
} from './errors.js'
export { createMemoryLinkPair } from '@tandem/transport'
