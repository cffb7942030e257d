import { useState } from 'preact/hooks'
import { useAction, useDevice, useQuery } from './hooks.js'
import { QrCode } from './qr-code.js'

/**
 * Starting a chat: with another person by an invite (mine shown as text and QR for them;
 * theirs pasted here), a group of contacts, or a chat of this account alone (notes).
 */
export function NewChat({ onOpen }: { onOpen(chatId: string): void }) {
  const { api } = useDevice()
  const act = useAction()
  const [invite] = useQuery(
    a => a.createInvite(),
    () => false,
    []
  )
  const [contacts] = useQuery(
    a => a.listContacts(),
    e => e.type === 'contacts',
    []
  )
  const [theirs, setTheirs] = useState('')
  const [groupTitle, setGroupTitle] = useState('')
  const [members, setMembers] = useState<string[]>([])
  const [notesTitle, setNotesTitle] = useState('')

  return (
    <section class="new-chat" aria-labelledby="new-chat-title">
      <h2 id="new-chat-title">New chat</h2>
      <section aria-labelledby="my-invite-title">
        <h3 id="my-invite-title">My invite</h3>
        <p>Show this to the person you want to chat with, or send them its text.</p>
        {invite !== undefined && (
          <>
            <QrCode svg={invite.qr.svg} label="My invite as a QR code" />
            <label for="my-invite">Invite text</label>
            <textarea id="my-invite" data-testid="my-invite" readOnly rows={3} value={invite.text} onFocus={e => e.currentTarget.select()} />
          </>
        )}
      </section>
      <form
        onSubmit={e => {
          e.preventDefault()
          void act(async () => {
            const chat = await api.acceptInvite(theirs.trim())
            setTheirs('')
            onOpen(chat.chatId)
          })
        }}
      >
        <h3>Their invite</h3>
        <label for="their-invite">Paste the invite they sent you</label>
        <textarea id="their-invite" data-testid="their-invite" rows={3} value={theirs} onInput={e => setTheirs(e.currentTarget.value)} required />
        <button type="submit" data-testid="accept-invite">
          Start chat
        </button>
      </form>
      <form
        onSubmit={e => {
          e.preventDefault()
          void act(async () => onOpen((await api.createGroup({ title: groupTitle, members })).chatId))
        }}
      >
        <h3>New group</h3>
        <label for="group-title">Group name</label>
        <input id="group-title" value={groupTitle} onInput={e => setGroupTitle(e.currentTarget.value)} required maxLength={256} />
        <fieldset>
          <legend>Members</legend>
          {(contacts ?? []).length === 0 && <p>No contacts yet: start a chat by invite first.</p>}
          {(contacts ?? []).map(c => (
            <label key={c.accountId} class="check">
              <input
                type="checkbox"
                checked={members.includes(c.accountId)}
                onChange={e => setMembers(m => (e.currentTarget.checked ? [...m, c.accountId] : m.filter(id => id !== c.accountId)))}
              />
              {c.name || c.accountId}
            </label>
          ))}
        </fieldset>
        <button type="submit" disabled={members.length === 0}>
          Create group
        </button>
      </form>
      <form
        onSubmit={e => {
          e.preventDefault()
          void act(async () => onOpen((await api.createChat({ title: notesTitle })).chatId))
        }}
      >
        <h3>Chat of my devices</h3>
        <label for="chat-title">Title</label>
        <input id="chat-title" value={notesTitle} onInput={e => setNotesTitle(e.currentTarget.value)} required maxLength={256} />
        <button type="submit">Create</button>
      </form>
    </section>
  )
}
