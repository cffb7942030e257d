/** Bounds shared by several grammars (frames, chain links, link codes). */

/** A libp2p peer id as text: an Ed25519 one is 52 characters; RSA ones run longer. */
export const MAX_PEER_ID_BYTES = 128
/** A device's name as a person typed it (UTF-8 bytes). */
export const MAX_DEVICE_NAME_BYTES = 256
/** An Ed25519 signature. */
export const SIGNATURE_BYTES = 64
/** Bound on an account id (UTF-8 bytes); real ids are 33 characters. */
export const MAX_ACCOUNT_ID_BYTES = 64
