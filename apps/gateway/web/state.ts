import { ChatClient, ChatClientError } from '@chat/client';
import type {
  BlockView,
  ConversationView,
  InvitationView,
  MessageView,
  OwnPresenceView,
  PresenceView,
  ReadStateView,
  RoomSummary,
} from '@chat/contracts';
import { $ } from './dom';
import type { Session } from './session';
import type { Timeline } from './timeline';

// What the page knows, shared by its parts. Each part renders from it; nothing here touches the DOM.

export interface OutboxItem {
  clientMsgId: string;
  roomId: string;
  /** For a conversation: the peer's username (sent with dm.send, which names the user). */
  peer?: string;
  body: string;
  /** The message this one answers (sent as its id; shown as a quote while pending). */
  replyTo?: MessageView;
  /** `held`: moderation holds it for review (HELD_FOR_REVIEW); it arrives as my message if a moderator approves it. */
  state: 'queued' | 'sending' | 'failed' | 'held';
  error: unknown;
  /** RATE_LIMITED: when it is sent again (`Date.now()` time), as the refusal said. */
  retryAt?: number;
  attempts: number;
}

/** Which panel is shown on the right: who is online, the open room's members, or its details. */
export type SidePanel = 'people' | 'members' | 'details';

export const state = {
  session: null as Session | null,
  client: null as ChatClient | null,
  /** Group rooms: mine (myRole set) and the public ones I may join. */
  rooms: new Map<string, RoomSummary>(),
  /** One-to-one conversations by roomId (`dm-…`). */
  conversations: new Map<string, ConversationView>(),
  /** Pending invitations by roomId. */
  invitations: new Map<string, InvitationView>(),
  /** Users I block, by userId (null until loaded). */
  blocks: null as Map<string, BlockView> | null,
  currentRoomId: null as string | null,
  /** Timelines of the rooms and conversations opened in this tab. */
  timelines: new Map<string, Timeline>(),
  /**
   * My read state per room and conversation (`read.state`, kept live from events): where my
   * server-side marker is, and how many messages (and mentions of me) are unread after it.
   */
  reads: new Map<string, ReadStateView>(),
  /** The message the composer's next message replies to. */
  replyTo: null as MessageView | null,
  /** Statuses of my contacts and of the members of rooms I looked at (position 0: read, not pushed). */
  presence: new Map<string, { view: PresenceView; position: number }>(),
  /**
   * Who shares a room or conversation with me (presence.contacts, read again when members come
   * and go): the people column shows these, not every status known. Null until read.
   */
  contacts: null as Set<string> | null,
  /** My own choice (presence.contacts, presence.set, presence.mine). */
  mine: null as OwnPresenceView | null,
  /** Everyone online on the server (presence.list): server administrators only, else null. */
  serverOnline: null as PresenceView[] | null,
  /** Messages not yet acknowledged, in the order they were written. */
  outbox: [] as OutboxItem[],
  /** messageId -> element, for the open room */
  messageEls: new Map<string, HTMLElement>(),
  side: 'people' as SidePanel,
};

export function resetState() {
  state.session = null;
  state.rooms.clear();
  state.conversations.clear();
  state.invitations.clear();
  state.blocks = null;
  state.timelines.clear();
  state.reads.clear();
  state.replyTo = null;
  state.presence.clear();
  state.contacts = null;
  state.mine = null;
  state.serverOnline = null;
  state.outbox = [];
  state.currentRoomId = null;
  state.messageEls.clear();
  state.side = 'people';
}

export const el = {
  authView: $('auth-view'),
  authForm: $<HTMLFormElement>('auth-form'),
  username: $<HTMLInputElement>('auth-username'),
  password: $<HTMLInputElement>('auth-password'),
  authError: $('auth-error'),
  registerButton: $<HTMLButtonElement>('register-button'),
  loginButton: $<HTMLButtonElement>('login-button'),
  remember: $<HTMLInputElement>('auth-remember'),
  authNotice: $('auth-notice'),
  authHeading: $('auth-heading'),
  authIntro: $('auth-intro'),
  authLanguage: $<HTMLSelectElement>('auth-language'),
  registerFields: $('auth-register-fields'),
  passwordAgain: $<HTMLInputElement>('auth-password-again'),
  passwordHint: $('auth-password-hint'),
  toRegister: $<HTMLButtonElement>('to-register'),
  toLogin: $<HTMLButtonElement>('to-login'),
  chatView: $('chat-view'),
  roomView: $('room-view'),
  connStatus: $('conn-status'),
  reconnectNow: $('reconnect-now'),
  meName: $('me-name'),
  meDot: $('me-dot'),
  statusSelect: $<HTMLSelectElement>('status-select'),
  statusText: $<HTMLButtonElement>('status-text'),
  statusTextLabel: $('status-text-label'),
  statusMenu: $<HTMLButtonElement>('status-menu'),
  statusMenuDot: $('status-menu-dot'),
  openSettings: $<HTMLButtonElement>('open-settings'),
  openModeration: $<HTMLButtonElement>('open-moderation'),
  logout: $('logout'),
  connBanner: $('conn-banner'),
  roomList: $('room-list'),
  publicList: $('public-list'),
  publicHead: $('public-head'),
  invitationList: $('invitation-list'),
  invitationsHead: $('invitations-head'),
  conversationList: $('conversation-list'),
  refreshRooms: $('refresh-rooms'),
  openCreateRoom: $('open-create-room'),
  openDirectory: $('open-directory'),
  openNewDm: $('open-new-dm'),
  roomName: $('room-name'),
  roomMeta: $('room-meta'),
  roomRole: $('room-role'),
  joinRoom: $('join-room'),
  leaveRoom: $('leave-room'),
  showMembers: $('show-members'),
  showDetails: $('show-details'),
  blockPeer: $<HTMLButtonElement>('block-peer'),
  muteRoom: $<HTMLButtonElement>('mute-room'),
  roomMore: $<HTMLButtonElement>('room-more'),
  roomActions: $('room-actions'),
  roomError: $('room-error'),
  scroller: $('scroller'),
  loadOlder: $<HTMLButtonElement>('load-older'),
  loadNewer: $<HTMLButtonElement>('load-newer'),
  jumpPresent: $<HTMLButtonElement>('jump-present'),
  jumpDateForm: $<HTMLFormElement>('jump-date-form'),
  jumpDate: $<HTMLInputElement>('jump-date'),
  jumpNote: $('jump-note'),
  openSearch: $<HTMLButtonElement>('open-search'),
  replyBar: $('reply-bar'),
  mentionList: $('mention-list'),
  historyStart: $('history-start'),
  placeholder: $('room-placeholder'),
  emptyState: $('empty-state'),
  emptyBrowse: $('empty-browse'),
  emptyCreate: $('empty-create'),
  messageList: $('message-list'),
  pendingList: $('pending-list'),
  composer: $('composer'),
  composerNote: $('composer-note'),
  input: $<HTMLTextAreaElement>('message-input'),
  send: $<HTMLButtonElement>('send'),
  onlineList: $('online-list'),
  onlineCount: $('online-count'),
  offlineHead: $('offline-head'),
  offlineList: $('offline-list'),
  serverOnlineSection: $('server-online-section'),
  serverOnlineCount: $('server-online-count'),
  serverOnlineList: $('server-online-list'),
  typingLine: $('typing-line'),
  roomsPanel: $('rooms-panel'),
  peoplePanel: $('people-panel'),
  sidePanel: $('side-panel'),
  sideTitle: $('side-title'),
  sideBody: $('side-body'),
  sideClose: $('side-close'),
  toggleRooms: $('toggle-rooms'),
  togglePeople: $('toggle-people'),
  togglePeopleCount: $('toggle-people-count'),
  scrim: $('scrim'),
};

export const me = () => state.session?.user;

/** The client of the logged-in session. */
export function client(): ChatClient {
  if (!state.client) throw new ChatClientError('UNAVAILABLE', 'not logged in');
  return state.client;
}

export const isConversation = (roomId: string | null): boolean => !!roomId && state.conversations.has(roomId);
/** I may read (and usually write) there: a room I am a member of, or one of my conversations. */
export const isMember = (roomId: string | null) => !!roomId && (!!state.rooms.get(roomId)?.myRole || state.conversations.has(roomId));
/** My role in a group room, or null. */
export const myRole = (roomId: string | null) => (roomId ? (state.rooms.get(roomId)?.myRole ?? null) : null);
export const isAdmin = (roomId: string | null) => {
  const role = myRole(roomId);
  return role === 'owner' || role === 'admin';
};
/** May I post in it now (membership and the room's posting policy)? */
export function mayPost(roomId: string | null): boolean {
  if (!roomId) return false;
  if (state.conversations.has(roomId)) return true;
  const room = state.rooms.get(roomId);
  if (!room?.myRole) return false;
  return room.postPolicy !== 'admins' || room.myRole !== 'member';
}

export const roomTitle = (r: Pick<RoomSummary, 'visibility' | 'name'>) => `${r.visibility === 'private' ? '🔒 ' : '# '}${r.name}`;
