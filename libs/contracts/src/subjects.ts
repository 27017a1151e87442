import { NAMESPACE_PATTERN, isRoomId } from './ids';
import type { RpcName } from './rpc';

/**
 * The one place where NATS subjects, stream names, KV bucket names and consumer names are
 * built. Every name starts from a namespace (config `NATS_NAMESPACE`, default `chat`) so that
 * several deployments, or parallel test runs, can share one NATS server without seeing each
 * other. No other file writes a subject string by hand.
 *
 * Layout (ns = namespace):
 *   ns.chat.room.<roomId>.meta     room lifecycle + membership events   (stream NS_CHAT)
 *   ns.chat.room.<roomId>.msg      messages posted to the room           (stream NS_CHAT)
 *   ns.account.<userId>            account events                        (stream NS_ACCOUNTS)
 *   ns.presence.user.<userId>      latest presence of a user (1 per subj) (stream NS_PRESENCE)
 *   ns.live.<same as above>        republished by JetStream after storing, with the stream
 *                                  sequence in headers; gateways subscribe here (core NATS),
 *                                  per room their users are in
 *   ns.live.user.<userId>.<kind>   to one user's connections (core NATS); a gateway holds ONE
 *                                  subscription per local user (`live.userAll`) and routes by
 *                                  the last token (`live.userSubjectKind`):
 *     .rooms                       room events about the user, forwarded by the rooms service's
 *                                  notifier (so a gateway learns of a join, invitation or new
 *                                  conversation of its user in a room it does not follow yet)
 *     .reads                       the user's read-marker moves (history publishes)
 *     .presence                    the user's own presence choice, to their other devices
 *                                  (presence publishes)
 *   ns.live.chat.room.<id>.presence|typing  ephemeral (core NATS, never stored): statuses of
 *                                  the room's members (presence fan-out) and typing; they ride
 *                                  on the gateway's existing room subscription
 *     .moderation                  moderation news for the user (moderation publishes)
 *   ns.mod.filters.server|room.<id>  filter configurations        (stream NS_MODERATION)
 *   ns.mod.roles.<userId>          server roles                          (stream NS_MODERATION)
 *   ns.mod.user.<userId>           mutes, warnings, strikes              (stream NS_MODERATION)
 *   ns.mod.access.<userId>         server bans, unbans, kicks (gateways follow) (NS_MODERATION)
 *   ns.mod.report.<reportId>       the reports queue                     (stream NS_MODERATION)
 *   ns.mod.redact.<roomId>         messages removed by rules' verdicts   (stream NS_MODERATION)
 *   ns.live.sessions.<userId>      session revocations (logout, password change, disable)
 *   ns.gw.<gatewayId>.conn|hb      gateway -> presence connection events and heartbeats
 *   ns.rpc.<service>.<op>          request/reply between services (queue group = service)
 */
export function createSubjects(namespace: string) {
  if (!NAMESPACE_PATTERN.test(namespace)) {
    throw new Error(`invalid NATS namespace "${namespace}": must match ${NAMESPACE_PATTERN}`);
  }
  const ns = namespace;
  const NS = namespace.toUpperCase();
  const token = (kind: string, value: string) => {
    if (!value || /[\s.*>]/.test(value)) throw new Error(`invalid ${kind} for a subject token: "${value}"`);
    return value;
  };
  const room = (roomId: string) => {
    if (!isRoomId(roomId)) throw new Error(`invalid room id for a subject: "${roomId}"`);
    return roomId;
  };
  const live = (subject: string) => `${ns}.live.${subject.slice(ns.length + 1)}`;

  const s = {
    namespace: ns,
    streams: {
      chat: { name: `${NS}_CHAT`, subjects: [`${ns}.chat.>`] },
      accounts: { name: `${NS}_ACCOUNTS`, subjects: [`${ns}.account.>`] },
      presence: { name: `${NS}_PRESENCE`, subjects: [`${ns}.presence.>`] },
      moderation: { name: `${NS}_MODERATION`, subjects: [`${ns}.mod.>`] },
    },
    kv: {
      /** username key -> account record; `create` makes registration unique. */
      accounts: `${ns}_accounts`,
      /** idempotency key of a posted message -> its id and position. */
      messageIds: `${ns}_msgids`,
      /**
       * `<userId>.<roomId>` -> the user's read marker in that room (history.markRead writes it,
       * only forward). A KV bucket is a stream keeping the last value per key: the markers'
       * source of truth, compacted by the server.
       */
      readMarkers: `${ns}_reads`,
      /** userId -> the user's presence choice (status, custom text); the presence service writes, its replicas watch. */
      presence: `${ns}_presence`,
      /** sessionId -> SessionRecord (a refresh-token family); the gateways' account service writes. */
      sessions: `${ns}_sessions`,
      /**
       * hashed limit key -> the times of recent attempts (failed logins per account and address,
       * per address; registrations per address): the gateways' shared login and registration limits.
       */
      limits: `${ns}_limits`,
    },
    consumers: {
      /** The history projection's checkpoint row, and the durable consumer of the default schema `chat`. */
      historyProjector: 'history-projector',
      /**
       * The history projector's durable consumer for one Postgres schema: one per schema, so a
       * schema rebuilt from the stream is projected on from its own checkpoint by the instances
       * switched to it while the old schema's instances keep theirs.
       */
      historyProjectorOf: (schema: string) => (schema === 'chat' ? 'history-projector' : `history-projector-${token('schema', schema)}`),
      /** Rooms service: forwards room events to the users they are about (ns.live.user.<id>.rooms). */
      userNotifier: 'rooms-user-notifier',
      /** rooms: writes the message-id KV record of every stored message (see message-id-recorder.ts). */
      messageIdRecorder: 'rooms-message-ids',
      /** presence: pushes each stored PresenceChanged to the rooms of its user (one replica per event). */
      presenceFanout: 'presence-fanout',
      /** rooms: reacts to account events (a deleted account leaves every room). */
      roomsAccountEvents: 'rooms-account-events',
      /** moderation: one durable consumer per moderation subscriber (its own checkpoint), docs/extending-moderation.md. */
      moderationSubscriber: (name: string) => `mod-sub-${token('subscriber name', name)}`,
    },
    chat: {
      all: `${ns}.chat.>`,
      roomMeta: (roomId: string) => `${ns}.chat.room.${room(roomId)}.meta`,
      roomMessages: (roomId: string) => `${ns}.chat.room.${room(roomId)}.msg`,
      /**
       * Both subjects of a room (meta and msg), for reading them back together in stream
       * order (the message-get API's next_by_subj takes a wildcard).
       */
      roomAll: (roomId: string) => `${ns}.chat.room.${room(roomId)}.*`,
      allRoomMeta: `${ns}.chat.room.*.meta`,
      allRoomMessages: `${ns}.chat.room.*.msg`,
      /** Extract the room id from any ns.chat.room.<id>.* or ns.live.chat.room.<id>.* subject. */
      roomIdOf(subject: string): string | null {
        // Match after the namespace: a namespace may itself be called "room".
        const rest = subject.startsWith(`${ns}.`) ? subject.slice(ns.length + 1).split('.') : [];
        const i = rest[0] === 'live' ? 1 : 0;
        const id = rest[i] === 'chat' && rest[i + 1] === 'room' ? rest[i + 2] : undefined;
        return id && isRoomId(id) ? id : null;
      },
    },
    accounts: {
      events: (userId: string) => `${ns}.account.${token('user id', userId)}`,
      /** Every account's events (the rooms service's account-events consumer). */
      all: `${ns}.account.*`,
    },
    presence: {
      user: (userId: string) => `${ns}.presence.user.${token('user id', userId)}`,
      gatewayConnections: (gatewayId: string) => `${ns}.gw.${token('gateway id', gatewayId)}.conn`,
      gatewayHeartbeat: (gatewayId: string) => `${ns}.gw.${token('gateway id', gatewayId)}.hb`,
      allGatewayConnections: `${ns}.gw.*.conn`,
      allGatewayHeartbeats: `${ns}.gw.*.hb`,
      /** Every user's presence subject (replaying the stream's last status per user). */
      allUsers: `${ns}.presence.user.*`,
      /** The gateway id of a ns.gw.<gatewayId>.conn|hb subject, or null for any other subject. */
      gatewayIdOf(subject: string): string | null {
        const parts = subject.split('.');
        return parts.length === 4 && parts[0] === ns && parts[1] === 'gw' && parts[2] ? parts[2] : null;
      },
    },
    moderation: {
      all: `${ns}.mod.>`,
      /** The server's filter configuration (FilterConfigSet). */
      serverFilters: `${ns}.mod.filters.server`,
      roomFilters: (roomId: string) => `${ns}.mod.filters.room.${room(roomId)}`,
      allFilters: `${ns}.mod.filters.>`,
      /** A user's server role (ServerRoleSet). */
      role: (userId: string) => `${ns}.mod.roles.${token('user id', userId)}`,
      /** Mutes, warnings and strikes of a user. */
      user: (userId: string) => `${ns}.mod.user.${token('user id', userId)}`,
      allUsers: `${ns}.mod.user.*`,
      /** Server bans, unbans and kicks of a user: every gateway follows these. */
      access: (userId: string) => `${ns}.mod.access.${token('user id', userId)}`,
      allAccess: `${ns}.mod.access.*`,
      report: (reportId: string) => `${ns}.mod.report.${token('report id', reportId)}`,
      /** Messages removed by a rule's verdict (MessageRedacted), per room. */
      redactions: (roomId: string) => `${ns}.mod.redact.${room(roomId)}`,
    },
    live: {
      /** Source and destination of the JetStream republish rule of each stream. */
      republishOf: (streamSubject: string) => ({ src: streamSubject, dest: live(streamSubject) }),
      roomAll: (roomId: string) => live(`${ns}.chat.room.${room(roomId)}.*`),
      roomMessages: (roomId: string) => live(`${ns}.chat.room.${room(roomId)}.msg`),
      allRoomMeta: live(`${ns}.chat.room.*.meta`),
      /** A user's notifications: room events about them (not republished: the notifier publishes). */
      user: (userId: string) => `${ns}.live.user.${token('user id', userId)}.rooms`,
      /** A user's read-marker moves, to all of that user's connections (history publishes). */
      readMarkers: (userId: string) => `${ns}.live.user.${token('user id', userId)}.reads`,
      /** Every subject of one user (`user`, `readMarkers`, `presenceMine`): a gateway's one subscription per local user. */
      userAll: (userId: string) => `${ns}.live.user.${token('user id', userId)}.*`,
      /** The last token of a `ns.live.user.<id>.<kind>` subject: rooms, reads or presence (anything else: not ours). */
      userSubjectKind(subject: string): string | null {
        const parts = subject.split('.');
        return parts.length >= 2 ? parts[parts.length - 1] : null;
      },
      allPresence: live(`${ns}.presence.user.*`),
      /** Statuses of the room's members, published by the presence fan-out (ephemeral; matched by `roomAll`). */
      roomPresence: (roomId: string) => live(`${ns}.chat.room.${room(roomId)}.presence`),
      /** Typing in the room, published by gateways (ephemeral; matched by `roomAll`). */
      roomTyping: (roomId: string) => live(`${ns}.chat.room.${room(roomId)}.typing`),
      /** The last token of a `ns.live.chat.room.<id>.<kind>` subject: meta, msg, presence or typing. */
      roomSubjectKind(subject: string): string | null {
        const parts = subject.split('.');
        return parts.length >= 2 ? parts[parts.length - 1] : null;
      },
      /** The user's own presence choice changed, to their other devices (presence publishes). */
      presenceMine: (userId: string) => `${ns}.live.user.${token('user id', userId)}.presence`,
      /** Moderation news for one user (warned, muted, unmuted, role; reports for moderators): `moderation.*` events. */
      userModeration: (userId: string) => `${ns}.live.user.${token('user id', userId)}.moderation`,
      /** Session revocations of a user (gateways close the affected connections). */
      sessions: (userId: string) => `${ns}.live.sessions.${token('user id', userId)}`,
      allSessions: `${ns}.live.sessions.*`,
    },
    rpc: (name: RpcName) => `${ns}.rpc.${name}`,
  };
  return s;
}

export type Subjects = ReturnType<typeof createSubjects>;
