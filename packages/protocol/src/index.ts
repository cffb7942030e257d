export {
  ErrorCode,
  TandemError,
  MalformedFrameError,
  FrameTooLargeError,
  UnsupportedVersionError,
  InvalidCertificateError,
  InvalidCredentialsError,
  WrongAccountError,
  NotAuthenticatedError,
  AccessDeniedError,
  InvalidDeviceListError,
  StaleDeviceListError,
  DeviceRevokedError,
  DeviceNotListedError,
  InvalidMembershipError,
  StaleMembershipError,
  QuotaExceededError,
  BlobTooLargeError,
  InvalidSnapshotError,
  ChainForkError,
  ChainGapError,
  RevokedSignerError,
  SignerNotCurrentError,
  RevocationUndoneError,
  DeviceLimitError,
  InvalidLinkCodeError,
  LinkCodeExpiredError,
  LinkCodeUsedError,
  LinkProofError,
  LinkDeclinedError,
  WrongPassphraseError,
  LinkRateLimitedError,
  DecryptError,
  BadSignatureError,
  UnknownEpochError,
  StaleEpochError,
  InvalidInviteError,
  InviteExpiredError,
  StoreCorruptError,
  errorFromWire
} from './errors.js'
export { BlobEncoding, type BlobEnvelope, encodeBlobEnvelope, decodeBlobEnvelope } from './blob-envelope.js'
export { ACCOUNT_ID_PREFIX, ACCOUNT_ID_LENGTH, isAccountId } from './identity.js'
export { MAX_PEER_ID_BYTES, MAX_DEVICE_NAME_BYTES, MAX_ACCOUNT_ID_BYTES, SIGNATURE_BYTES } from './limits.js'
export { truncateUtf8 } from './wire.js'
export {
  type SyncFrame,
  type SyncFrameType,
  SYNC_PROTOCOL,
  SYNC_PROTOCOL_VERSION,
  SyncFrameTag,
  MAX_FRAME_BYTES,
  MAX_CHUNK_BYTES,
  MAX_DOC_ID_BYTES,
  MAX_STATE_VECTOR_BYTES,
  MAX_PEERS,
  MAX_ERROR_CODE_BYTES,
  MAX_ERROR_MESSAGE_BYTES,
  writeSyncFrame,
  readSyncFrame,
  encodeSyncFrame,
  decodeSyncFrame,
  checkVersion,
  chunkPayload,
  errorFrame
} from './sync-frames.js'
export {
  type SignedMembership,
  MEMBERSHIP_FORMAT_VERSION,
  MEMBERSHIP_KEYED_FORMAT_VERSION,
  MEMBERSHIP_SIGNATURE_DOMAIN,
  MAX_MEMBERS,
  signMembership,
  verifyMembership,
  checkMembershipSuccessor,
  writeSignedMembership,
  readSignedMembership,
  encodeSignedMembership,
  decodeSignedMembership
} from './membership.js'
export {
  type StoreFrame,
  type StoreFrameType,
  STORE_PROTOCOL,
  STORE_PROTOCOL_VERSION,
  StoreFrameTag,
  MAX_EPHEMERAL_BYTES,
  MAX_NOTICES,
  MAX_ACTIVITY_ENTRIES,
  type EntryNotice,
  type DeviceActivity,
  writeStoreFrame,
  readStoreFrame,
  encodeStoreFrame,
  decodeStoreFrame,
  checkStoreVersion,
  isDeviceToRelayFrame,
  storeErrorFrame,
  docErrorFrame
} from './store-frames.js'
export {
  type SigningKeyPair,
  type AgreementKeyPair,
  SIGNING_KEY_BYTES,
  AGREEMENT_KEY_BYTES,
  signingKeyFromSeed,
  agreementKeyFromSecret,
  isUsableSigningKey,
  peerIdFromSigningKey,
  signingKeyFromPeerId
} from './device-chain/keys.js'
export {
  type ChainDevice,
  type LinkSigner,
  type LinkExtension,
  type ChainLinkBody,
  type ChainLink,
  CHAIN_FORMAT_VERSION,
  LINK_HASH_BYTES,
  MAX_CHAIN_DEVICES,
  MAX_CHAIN_REVOKED,
  MAX_PLATFORM_BYTES,
  MAX_LINK_EXTENSIONS,
  MAX_EXTENSION_BYTES,
  MAX_LINK_BYTES,
  MAX_CHAIN_LINKS,
  writeChainLink,
  readChainLink,
  encodeChainLink,
  decodeChainLink,
  encodeChain,
  decodeChain
} from './device-chain/link.js'
export { nativeSignatures, nobleSignatures, type SignatureBackend } from './crypto/signatures.js'
export { AEAD_KEY_BYTES, AEAD_NONCE_BYTES, AEAD_TAG_BYTES, type AeadBackend, nobleAead, xchachaSubkey } from './crypto/aead.js'
export { DEVICE_CHAIN_SIGNATURE_DOMAIN, LINK_HASH_DOMAIN, linkHash, accountIdFromGenesis, preverifyLinks, signLinkBody } from './device-chain/digest.js'
export {
  type ChainHead,
  MAX_LINKS_PER_FRAME,
  MAX_LINK_RUN_BYTES,
  headOf,
  headOfLinks,
  sameHead,
  splitLinks,
  writeChainHead,
  readChainHead,
  writeLinkRun,
  readLinkRun
} from './device-chain/chain-wire.js'
export { type ChainState, type ListedDevice, chainDeviceStatus, chainKeyStatus, listChainDevices, revokedPeerIds } from './device-chain/state.js'
export {
  type ChainPolicy,
  DEFAULT_MAX_DEVICES,
  DEFAULT_CHAIN_POLICY,
  verifyGenesis,
  verifySuccessor,
  verifyChain,
  acceptLink,
  checkDeviceLimit
} from './device-chain/rules.js'
export { type ForkChoice, chooseChain } from './device-chain/fork-choice.js'
export { type ChainIntent, type ChainSigner, type Draft, type ExtensionsFor, createGenesis, proposeLink, checkSignerCurrent } from './device-chain/intents.js'
export { type RebaseOutcome, intentsOfLink, rebaseIntents, rebaseLink } from './device-chain/rebase.js'
export {
  RECOVERY_PHRASE_WORDS,
  RECOVERY_SCRYPT,
  generateRecoveryPhrase,
  normalizeRecoveryPhrase,
  type RecoveryKeys,
  recoveryKeyFromPhrase
} from './device-chain/recovery.js'
export {
  KEY_GENERATION_EXTENSION,
  RECOVERY_AGREEMENT_EXTENSION,
  type KeyBox,
  type KeyGeneration,
  keyBoxContext,
  encodeKeyGeneration,
  decodeKeyGeneration,
  keyGenerationOf,
  encodeRecoveryAgreement,
  recoveryAgreementOf,
  generationAfter
} from './device-chain/key-generation.js'
export { KEY_BOX_BYTES, WRAPPED_KEY_BYTES, sealKey, openKey, wrapKey, unwrapKey } from './crypto/key-box.js'
export { KEY_ID_BYTES, docKey, keyIdOf, accountAgreementKey } from './crypto/content-keys.js'
export {
  KEY_REQUEST,
  KEY_SHARE,
  MAX_SHARED_GENERATIONS,
  type KeyRequest,
  type KeyShare,
  type KeyShareEntry,
  type KeyMessage,
  isKeyMessage,
  encodeKeyMessage,
  decodeKeyMessage
} from './crypto/key-share.js'
export {
  SEALED_ENCODING,
  type SealedKind,
  type SealedHeader,
  type SealInput,
  type AuthorStanding,
  type OpenContext,
  type OpenedSealed,
  seal,
  open as openSealed,
  isSealed,
  readSealedHeader,
  sealedEpoch
} from './crypto/sealed-blob.js'
export {
  type LinkCode,
  type CreateLinkCodeOptions,
  LINK_CODE_VERSION,
  LINK_SECRET_BYTES,
  MAX_LINK_ADDRESSES,
  MAX_LINK_ADDRESS_BYTES,
  MAX_LINK_CODE_BYTES,
  DEFAULT_LINK_CODE_TTL_MS,
  MAX_LINK_CODE_TTL_MS,
  LINK_CODE_CLOCK_SKEW_MS,
  createLinkCode,
  writeLinkCode,
  readLinkCode,
  encodeLinkCode,
  decodeLinkCode,
  checkLinkCodeExpiry,
  checkLinkPeer,
  linkDialAddresses
} from './linking/link-code.js'
export {
  type LinkCodePosition,
  LINK_CODE_PREFIX,
  LINK_CODE_GROUP,
  MAX_LINK_CODE_TEXT,
  formatLinkCodeText,
  linkCodeQrPayload,
  readLinkCodeText,
  parseLinkCodeText
} from './linking/link-code-text.js'
export { type LinkCodeQrFormat, renderLinkCodeQr } from './linking/link-code-qr.js'
export { type LinkCodeState, type LinkClaim, LinkCodeHolder } from './linking/link-code-holder.js'
export {
  type LinkRole,
  type LinkTranscript,
  LINK_PROTOCOL,
  LINK_NONCE_BYTES,
  LINK_PROOF_BYTES,
  CONFIRMATION_DIGITS,
  transcriptBytes,
  linkProof,
  verifyLinkProof,
  confirmationCode
} from './linking/transcript.js'
export {
  type LinkFrame,
  type LinkFrameType,
  type ChatHint,
  MAX_CHAT_HINTS,
  MAX_HINT_CHAT_ID_BYTES,
  LINK_PROTOCOL_VERSION,
  LinkFrameTag,
  MAX_KEY_MATERIAL_BYTES,
  MAX_APPROVAL_CHAIN_BYTES,
  MAX_RETRY_AFTER_MS,
  writeLinkFrame,
  readLinkFrame,
  encodeLinkFrame,
  decodeLinkFrame,
  checkLinkVersion,
  linkErrorFrame
} from './linking/link-frames.js'
export {
  type PassphraseParams,
  type PassphraseVerifier,
  type PassphraseOptions,
  PASSPHRASE_VERIFIER_VERSION,
  PASSPHRASE_PARAMS,
  MIN_PASSPHRASE_PARAMS,
  MAX_PASSPHRASE_PARAMS,
  PASSPHRASE_SALT_BYTES,
  PASSPHRASE_KEY_BYTES,
  PASSPHRASE_PROOF_BYTES,
  MAX_PASSPHRASE_BYTES,
  derivePassphraseKey,
  createPassphraseVerifier,
  verifyPassphrase,
  passphraseProof,
  verifyPassphraseProof,
  encodePassphraseVerifier,
  decodePassphraseVerifier
} from './linking/passphrase.js'
export {
  type AttemptLimits,
  type AttemptLimiterState,
  PASSPHRASE_FREE_ATTEMPTS,
  PASSPHRASE_BACKOFF_BASE_MS,
  PASSPHRASE_BACKOFF_MAX_MS,
  PASSPHRASE_FAILURES_FORGOTTEN_MS,
  PASSPHRASE_ATTEMPT_LIMITS,
  AttemptLimiter
} from './linking/attempt-limiter.js'
export { LinkSession } from './linking/link-session.js'
export {
  type LinkDialerState,
  type LinkDialerOptions,
  type LinkedDeviceInfo,
  type LinkGrant,
  MAX_PASSPHRASE_ATTEMPTS_PER_SESSION,
  LinkDialer
} from './linking/link-dialer.js'
export { type LinkListenerState, type LinkListenerOptions, type LinkApproval, LinkListener } from './linking/link-listener.js'
export { type DocRef, MAX_SEGMENT_INDEX, accountDocId, chatDocId, segmentDocId, parseDocId, chatIdOfDoc, membershipDocOf } from './doc-ids.js'
export {
  type ChatKeys,
  type ChatKeyBox,
  type ChatKeyRecipient,
  MAX_CHAT_EPOCHS,
  chatKeyBoxContext,
  sealChatKeys,
  openChatKeys,
  chatKeyBoxOf
} from './chat-keys/chat-keys.js'
export {
  type Invite,
  INVITE_VERSION,
  MAX_INVITE_BYTES,
  MAX_INVITE_NAME_BYTES,
  MAX_INVITE_RELAY_BYTES,
  DEFAULT_INVITE_TTL_MS,
  MAX_INVITE_TTL_MS,
  encodeInvite,
  decodeInvite,
  writeInvite,
  readInvite,
  checkInviteExpiry
} from './invite/invite.js'
export { INVITE_PREFIX, MAX_INVITE_TEXT, formatInviteText, inviteQrPayload, parseInviteText, readInviteText, renderInviteQr } from './invite/invite-text.js'
export { SAFETY_NUMBER_ITERATIONS, safetyNumber } from './invite/safety-number.js'
