import type { MuteView, ServerRole, WsEvents } from '@chat/contracts';
import { codeOf, fullTime, shortTime, toast } from '../dom';
import { client, state } from '../state';
import { durationText, muteFor, withMute } from './format';

// My own moderation standing: my server role (moderator, administrator, or none: the moderation
// panel is shown for a role), my active mutes (the composer says so and waits) and strikes.
// Read with `mod.me` after every (re)connection and kept live by the `moderation.*` events
// addressed to me, each of which is also said in a notice.

export const standing = {
  role: null as ServerRole | null,
  mutes: [] as MuteView[],
  strikes: 0,
};

/** Parts of the page that show the standing (the composer, the moderation button) redraw on a change. */
export const onStandingChanged: Array<() => void> = [];

let expiry: ReturnType<typeof setTimeout> | undefined;
function changed() {
  const now = Date.now();
  standing.mutes = standing.mutes.filter((m) => Date.parse(m.until) > now);
  // A mute ends at `until` even if its event is late (the server also sends moderation.unmuted).
  clearTimeout(expiry);
  const next = Math.min(...standing.mutes.map((m) => Date.parse(m.until)));
  if (Number.isFinite(next)) expiry = setTimeout(changed, Math.min(next - now + 50, 2 ** 31 - 1));
  for (const f of onStandingChanged) f();
}

/** Server moderators and administrators see the moderation panel and act on users server-wide. */
export const isStaff = () => standing.role !== null;
export const isServerAdmin = () => standing.role === 'admin';

/** After every (re)connection. A service that does not answer (yet) leaves me without a role. */
export async function loadStanding() {
  try {
    const me = await client().request('mod.me', {});
    standing.role = me.role ?? null;
    standing.mutes = me.mutes ?? [];
    standing.strikes = me.strikes ?? 0;
  } catch (err) {
    // UNAVAILABLE / UNKNOWN_OP: moderation is not running here; nothing to show.
    if (codeOf(err) !== 'UNAVAILABLE') standing.role = null;
  }
  changed();
}

export function resetStanding() {
  muteNotices.clear();
  standing.role = null;
  standing.mutes = [];
  standing.strikes = 0;
  clearTimeout(expiry);
}

/** "in general" / "on the whole server". */
export function scopeText(roomId: string | null): string {
  if (!roomId) return 'on the whole server';
  const name = state.rooms.get(roomId)?.name ?? state.conversations.get(roomId)?.peer.username;
  return `in ${name ?? roomId}`;
}

/** The composer's line while I am muted where I am writing, or null. */
export function muteNote(roomId: string | null): string | null {
  const m = muteFor(standing.mutes, roomId, Date.now());
  if (!m) return null;
  const left = durationText(Date.parse(m.until) - Date.now());
  return `You are muted ${scopeText(m.roomId)} until ${shortTime(m.until)} (${left} left)${m.reason ? `: ${m.reason}` : ''}.`;
}

/** A mute or refusal told me I am muted but I did not know: read my standing again. */
export function refreshStandingSoon() {
  if (state.client?.ready) void loadStanding();
}

const byText = (by: { username: string } | null, rule: string | null) => (by ? `${by.username}` : `automatic${rule ? ` (${rule})` : ''}`);

// ---------------------------------------------------------------- live events (to me)

export function onWarned(d: WsEvents['moderation.warned']) {
  toast(`Warning from the moderators (${byText(d.by, d.rule)}): ${d.reason}`, 'warning');
}

/** The notice of each mute (by muteId): it goes when the mute ends, so no stale "you are muted" stays. */
const muteNotices = new Map<string, HTMLElement>();

export function onMuted(d: WsEvents['moderation.muted']) {
  standing.mutes = withMute(standing.mutes, d);
  changed();
  muteNotices.get(d.muteId)?.remove();
  const node = toast(
    `You are muted ${scopeText(d.roomId)} until ${fullTime(d.until)} (${byText(d.by, d.rule)})${d.reason ? `: ${d.reason}` : ''}.`,
    'warning',
  );
  muteNotices.set(d.muteId, node);
}

export function onUnmuted(d: WsEvents['moderation.unmuted']) {
  const had = standing.mutes.some((m) => m.muteId === d.muteId);
  standing.mutes = standing.mutes.filter((m) => m.muteId !== d.muteId);
  changed();
  muteNotices.get(d.muteId)?.remove();
  muteNotices.delete(d.muteId);
  if (had || d.reason === 'lifted')
    toast(d.reason === 'expired' ? `Your mute ${scopeText(d.roomId)} has ended.` : `A moderator lifted your mute ${scopeText(d.roomId)}.`);
}

const ROLE_NAMES: Record<ServerRole, string> = { admin: 'a server administrator', moderator: 'a server moderator' };

export function onRole(d: WsEvents['moderation.role']) {
  standing.role = d.role ?? null;
  changed();
  toast(d.role ? `${d.by.username} made you ${ROLE_NAMES[d.role]}.` : `${d.by.username} took away your server role.`);
}
