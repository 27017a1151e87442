import type { MemberRole, WsEvents } from '@chat/contracts';
import { toast } from '../dom';
import { t } from '../i18n/i18n';
import { forgetMembers, patchMembers } from '../members/panel';
import { openRoom, renderRoomHeader } from '../messages/view';
import { refreshSide } from '../side';
import { client, state } from '../state';
import { patchDetails } from './details';
import { dropInvitation, loadInvitations } from './invitations';
import { dropRoom, isMe, loadRooms, roomChanged } from './sidebar';

// Live room events: membership, roles, settings, ownership and deletion. Each updates what the
// page holds (the room list, the open room's header and panels); an event about me that takes
// a room away (kick, ban, delete) removes it from my list with a notice.

/** The room's name as this page knows it (a room I am only invited to is named by its invitation). */
const nameOf = (roomId: string) => state.rooms.get(roomId)?.name ?? state.invitations.get(roomId)?.roomName ?? roomId;
const because = (reason: string) => (reason ? t('rooms:reason.quoted', { reason }) : '');

function count(roomId: string, delta: number) {
  const room = state.rooms.get(roomId);
  if (room) room.memberCount = Math.max(0, room.memberCount + delta);
}

function setMyRole(roomId: string, role: MemberRole | null) {
  const room = state.rooms.get(roomId);
  if (!room || room.myRole === role) return;
  room.myRole = role;
  // The members panel's actions and ban list depend on my role.
  forgetMembers(roomId);
  roomChanged(roomId, { reloadSide: true });
}

/** Re-reads a room's summary (its member count) when an event does not say enough. */
async function refreshRoom(roomId: string) {
  try {
    const d = await client().request('room.details', { roomId });
    const room = state.rooms.get(roomId);
    if (room) Object.assign(room, { memberCount: d.memberCount, myRole: d.myRole });
    roomChanged(roomId);
  } catch {
    // The next room list read corrects it.
  }
}

export function onMemberJoined(d: WsEvents['member.joined']) {
  if (isMe(d.userId)) {
    dropInvitation(d.roomId);
    // Already known when the change was made in this tab; otherwise the server's view is the truth.
    if (state.rooms.get(d.roomId)?.myRole) return;
    void loadRooms().then(() => {
      if (d.roomId === state.currentRoomId) void openRoom(d.roomId);
    });
    return;
  }
  count(d.roomId, 1);
  patchMembers(d.roomId, { joined: { userId: d.userId, username: d.username, role: d.role, joinedAt: d.time } });
  roomChanged(d.roomId);
}

export function onMemberLeft(d: WsEvents['member.left']) {
  if (isMe(d.userId)) {
    // Left in another tab (this tab's own leave already updated the list).
    if (state.rooms.get(d.roomId)?.myRole) dropRoom(d.roomId, null);
    return;
  }
  count(d.roomId, -1);
  patchMembers(d.roomId, { gone: d.userId });
  if (d.newOwner) {
    patchMembers(d.roomId, { role: { userId: d.newOwner.userId, role: 'owner' } });
    patchDetails(d.roomId, { owner: d.newOwner });
    if (isMe(d.newOwner.userId)) {
      toast(t('rooms:event.ownerLeft', { name: d.username, room: nameOf(d.roomId) }));
      setMyRole(d.roomId, 'owner');
    }
  }
  roomChanged(d.roomId);
}

export function onMemberKicked(d: WsEvents['member.kicked']) {
  if (isMe(d.userId)) {
    dropRoom(d.roomId, t('rooms:event.kicked', { name: d.by.username, room: nameOf(d.roomId) }) + because(d.reason));
    return;
  }
  count(d.roomId, -1);
  patchMembers(d.roomId, { gone: d.userId });
  roomChanged(d.roomId);
}

export function onMemberBanned(d: WsEvents['member.banned']) {
  if (isMe(d.userId)) {
    const notice = t('rooms:event.banned', { name: d.by.username, room: nameOf(d.roomId) }) + because(d.reason);
    dropInvitation(d.roomId);
    dropRoom(d.roomId, notice, { gone: true });
    return;
  }
  patchMembers(d.roomId, { gone: d.userId, banned: { userId: d.userId, username: d.username, by: d.by, reason: d.reason, time: d.time } });
  // A ban may hit a member or not: the member count comes from the server.
  void refreshRoom(d.roomId);
}

export function onMemberUnbanned(d: WsEvents['member.unbanned']) {
  patchMembers(d.roomId, { unbanned: d.userId });
}

export function onMemberRole(d: WsEvents['member.role']) {
  patchMembers(d.roomId, { role: { userId: d.userId, role: d.role } });
  if (isMe(d.userId)) {
    toast(
      d.role === 'admin'
        ? t('rooms:event.madeAdmin', { name: d.by.username, room: nameOf(d.roomId) })
        : t('rooms:event.noLongerAdmin', { room: nameOf(d.roomId) }),
    );
    setMyRole(d.roomId, d.role);
  }
}

export function onRoomOwner(d: WsEvents['room.owner']) {
  patchMembers(d.roomId, { role: { userId: d.userId, role: 'owner' } });
  if (d.previous) patchMembers(d.roomId, { role: { userId: d.previous.userId, role: 'admin' } });
  patchDetails(d.roomId, { owner: { userId: d.userId, username: d.username } });
  if (isMe(d.userId)) {
    toast(t('rooms:event.nowOwner', { room: nameOf(d.roomId) }));
    setMyRole(d.roomId, 'owner');
  } else if (d.previous && isMe(d.previous.userId)) {
    toast(t('rooms:event.ownerPassed', { name: d.username, room: nameOf(d.roomId) }));
    setMyRole(d.roomId, 'admin');
  } else refreshSide(d.roomId);
}

export function onRoomUpdated(d: WsEvents['room.updated']) {
  const room = state.rooms.get(d.roomId);
  const settings = {
    name: d.name,
    topic: d.topic,
    visibility: d.visibility,
    postPolicy: d.postPolicy,
    memberLimit: d.memberLimit,
    slowModeSeconds: d.slowModeSeconds,
  };
  if (room) Object.assign(room, settings);
  patchDetails(d.roomId, settings);
  roomChanged(d.roomId, { reloadSide: false });
  if (d.roomId === state.currentRoomId) renderRoomHeader();
}

export function onRoomDeleted(d: WsEvents['room.deleted']) {
  dropInvitation(d.roomId);
  if (!state.rooms.has(d.roomId)) return;
  const notice =
    d.reason === 'empty' || isMe(d.by.userId) ? null : t('rooms:event.deleted', { name: d.by.username, room: nameOf(d.roomId) });
  dropRoom(d.roomId, notice, { gone: true });
}

/**
 * My invitation was declined (here or on another device). The room's events can reach me after
 * a renewed invitation, which comes another way (news for me): the list is then read again from
 * the rooms service, so a renewed one that the late decline dropped comes back.
 */
export function onInvitationDeclined(d: WsEvents['invitation.declined']) {
  if (!isMe(d.userId)) return;
  dropInvitation(d.roomId);
  void loadInvitations();
}

export function onRoomRetention(d: WsEvents['room.retention']) {
  patchDetails(d.roomId, { retentionDays: d.days });
  refreshSide(d.roomId);
}
