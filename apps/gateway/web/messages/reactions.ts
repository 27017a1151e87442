import type { MessageView, ReactionView } from '@chat/contracts';
import { t } from '../i18n/i18n';

// A message's reactions kept from events (pure: no DOM, unit-tested). The server sends
// `reaction.added` again for a reaction the user already has, and this page applies its own
// toggles at once before their events arrive: both must be no change.

/** Applies one reaction change; a repeat (the same user and emoji again) changes nothing. */
export function applyReaction(m: Pick<MessageView, 'reactions'>, emoji: string, userId: string, added: boolean) {
  const reactions: ReactionView[] = (m.reactions ??= []);
  const i = reactions.findIndex((r) => r.emoji === emoji);
  const r = i >= 0 ? reactions[i] : undefined;
  if (added) {
    if (r?.userIds.includes(userId)) return;
    if (r) {
      r.count++;
      r.userIds.push(userId);
    } else reactions.push({ emoji, count: 1, userIds: [userId] });
  } else if (r) {
    const j = r.userIds.indexOf(userId);
    // Not among the users listed (at most 50 are): count it only when the list has them all.
    if (j < 0 && r.userIds.length >= r.count) return;
    if (j >= 0) r.userIds.splice(j, 1);
    r.count--;
    if (r.count <= 0) reactions.splice(i, 1);
  }
}

/** "alice, 小明 and 2 others reacted with 🎉" (me as "You"), in the page's language. */
export function reactedText(
  r: { emoji: string; count: number; userIds: string[] },
  names: ReadonlyMap<string, string>,
  self?: string,
): string {
  const mine = !!self && r.userIds.includes(self);
  const named = r.userIds.filter((id) => id !== self && names.has(id)).map((id) => names.get(id)!);
  const who = [...(mine ? [t('messages:reacted.you')] : []), ...named];
  const others = r.count - who.length;
  if (others > 0) who.push(t(who.length ? 'messages:reacted.others' : 'messages:reacted.people', { count: others }));
  const list =
    who.length > 1
      ? t('messages:reacted.last', { list: who.slice(0, -1).join(t('messages:reacted.separator')), last: who[who.length - 1] })
      : who[0];
  return t('messages:reacted', { who: list, emoji: r.emoji });
}
