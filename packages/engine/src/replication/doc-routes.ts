import { chatIdOfDoc } from '@tandem/protocol'

/**
 * Which relays each doc belongs on (issue 16: people on different relays). The account's own
 * docs (the account doc, its chats of this account alone) go to its home relays, the ones the
 * device was configured with; a shared chat's docs (the chat doc and its segments) to the relay
 * the chat lives on, and to no other: Bob's home relay learns nothing of a chat with Alice that
 * lives on hers, and hers nothing of Bob's account. A shared chat that names no relay (made
 * before chats named theirs, or on a device without addresses: the simulator) stays home.
 */
export class DocRoutes {
  constructor(
    /** The home relays' ids. */
    private readonly home: () => readonly string[],
    /** The id of the relay a shared chat lives on; null when the chat names none. */
    private readonly chatRelay: (chatId: string) => string | null
  ) {}

  /** The ids of the relays `docId` belongs on. */
  relaysOf(docId: string): readonly string[] {
    const chatId = chatIdOfDoc(docId)
    const relay = chatId === null ? null : this.chatRelay(chatId)
    return relay === null ? this.home() : [relay]
  }

  /** Whether `docId` belongs on relay `relayId`. */
  routes(relayId: string, docId: string): boolean {
    return this.relaysOf(docId).includes(relayId)
  }
}
