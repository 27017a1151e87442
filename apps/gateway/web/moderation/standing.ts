import type { MuteView, ServerRole, WsEvents } from '@chat/contracts';
import { codeOf, h, toast } from '../dom';
import { t } from '../i18n/i18n';
import { client, state } from '../state';
import { durationText, muteFor, ruleName, untilText, withMute } from './format';
import { roomName } from './people';

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

/** "in # general" / "on the whole server" ("在 # general" / "全服"). */
export function scopeText(roomId: string | null): string {
  return roomId ? t('moderation:scope.room', { room: roomName(roomId) }) : t('moderation:scope.server');
}

/** The composer's line while I am muted where I am writing, or null. */
export function muteNote(roomId: string | null): string | null {
  const m = muteFor(standing.mutes, roomId, Date.now());
  if (!m) return null;
  const text = t('moderation:muted.note', {
    scope: scopeText(m.roomId),
    until: untilText(m.until),
    left: durationText(Date.parse(m.until) - Date.now()),
  });
  return m.reason ? t('moderation:withReason', { text, reason: m.reason }) : text;
}

/** A mute or refusal told me I am muted but I did not know: read my standing again. */
export function refreshStandingSoon() {
  if (state.client?.ready) void loadStanding();
}

// ---------------------------------------------------------------- live events (to me)

/** How many warnings and mutes stay on the page at most; an older one goes when a newer comes. */
const NOTICES_MAX = 3;
/** After this long a warning or a mute notice folds to its first line, with "Details" to read it all. */
const FOLD_MS = 12_000;
const notices: HTMLElement[] = [];

/**
 * A notice of what a moderator told me (a warning, a mute): it stays until dismissed (or its
 * mute ends), folds to one line after a while, and only the newest few are kept.
 */
function standingNotice(kind: 'warned' | 'muted', title: string, details: string): HTMLElement {
  const node = toast('', 'warning');
  node.classList.add('mod-notice');
  node.dataset.kind = kind;
  const more = h('button', { type: 'button', class: 'link-button mod-notice-more', testid: 'notice-details', 'aria-expanded': 'true' });
  const label = () => {
    const open = !node.classList.contains('folded');
    more.textContent = open ? t('moderation:notice.less') : t('moderation:notice.more');
    more.setAttribute('aria-expanded', String(open));
  };
  more.onclick = () => {
    node.classList.toggle('folded');
    label();
  };
  node.replaceChildren(
    h('strong', { class: 'mod-notice-title', text: title }),
    details ? h('span', { class: 'mod-notice-details', text: details }) : '',
    details ? more : '',
    ...[...node.querySelectorAll('.toast-close')],
  );
  label();
  if (details)
    setTimeout(() => {
      node.classList.add('folded');
      label();
    }, FOLD_MS);
  // The oldest warnings go first: a mute's notice stays while the mute lasts, if it can.
  const shown = [...notices.filter((n) => n.isConnected), node];
  while (shown.length > NOTICES_MAX) {
    const i = shown.findIndex((n) => n.dataset.kind !== 'muted');
    shown.splice(i === -1 || i === shown.length - 1 ? 0 : i, 1)[0].remove();
  }
  notices.splice(0, notices.length, ...shown);
  return node;
}

const byText = (by: { username: string } | null, rule: string | null) =>
  by ? by.username : rule ? t('moderation:auto.rule', { rule: ruleName(rule) }) : t('moderation:auto');

export function onWarned(d: WsEvents['moderation.warned']) {
  standingNotice('warned', t('moderation:warned.title', { by: byText(d.by, d.rule) }), d.reason);
}

/** The notice of each mute (by muteId): it goes when the mute ends, so no stale "you are muted" stays. */
const muteNotices = new Map<string, HTMLElement>();

export function onMuted(d: WsEvents['moderation.muted']) {
  standing.mutes = withMute(standing.mutes, d);
  changed();
  muteNotices.get(d.muteId)?.remove();
  const title = t('moderation:muted.title', { scope: scopeText(d.roomId), until: untilText(d.until) });
  const by = byText(d.by, d.rule);
  const node = standingNotice(
    'muted',
    title,
    d.reason ? t('moderation:muted.byReason', { by, reason: d.reason }) : t('moderation:muted.by', { by }),
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
    toast(t(d.reason === 'expired' ? 'moderation:unmuted.expired' : 'moderation:unmuted.lifted', { scope: scopeText(d.roomId) }));
}

export function onRole(d: WsEvents['moderation.role']) {
  standing.role = d.role ?? null;
  changed();
  const by = d.by.username;
  toast(d.role ? t(`moderation:role.given.${d.role}`, { by }) : t('moderation:role.taken', { by }));
}
