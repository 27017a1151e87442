/**
 * Which streams belong to a deployment, and how a stream of one namespace becomes the same
 * stream of another (a restore into a fresh namespace). Pure: the unit tests cover every rule.
 *
 * A namespace `ns` owns streams `NS_<WORD>` with subjects under `ns.` (CHAT, ACCOUNTS, PRESENCE,
 * MODERATION, and any stream added later the same way) and KV buckets `ns_<word>` (backing stream
 * `KV_ns_<word>`, subjects `$KV.ns_<word>.>`). `<word>` has no underscore, so the namespace
 * `chat` does not claim the streams of a namespace `chat_x` (`CHAT_X_CHAT`, `KV_chat_x_reads`).
 */

const WORD = /^[A-Za-z0-9-]+$/;

export type StreamKind = 'stream' | 'kv';

export function streamKind(namespace: string, name: string, subjects: readonly string[]): StreamKind | null {
  const NS = namespace.toUpperCase();
  if (name.startsWith(`${NS}_`) && WORD.test(name.slice(NS.length + 1)) && subjects.length > 0) {
    return subjects.every((x) => x.startsWith(`${namespace}.`)) ? 'stream' : null;
  }
  const kvPrefix = `KV_${namespace}_`;
  if (name.startsWith(kvPrefix) && WORD.test(name.slice(kvPrefix.length))) {
    const bucket = name.slice(3);
    return subjects.length === 1 && subjects[0] === `$KV.${bucket}.>` ? 'kv' : null;
  }
  return null;
}

/** Renames a stream of namespace `from` to the same stream of `to` (its name, or a subject). */
export function renamer(from: string, to: string) {
  const FROM = from.toUpperCase();
  const TO = to.toUpperCase();
  const swapPrefix = (value: string, prefixes: Array<[string, string]>): string => {
    for (const [a, b] of prefixes) if (value.startsWith(a)) return b + value.slice(a.length);
    throw new Error(`"${value}" does not belong to the namespace "${from}"`);
  };
  return {
    streamName: (name: string) =>
      swapPrefix(name, [
        [`${FROM}_`, `${TO}_`],
        [`KV_${from}_`, `KV_${to}_`],
      ]),
    subject: (subject: string) =>
      swapPrefix(subject, [
        [`${from}.`, `${to}.`],
        [`$KV.${from}_`, `$KV.${to}_`],
      ]),
  };
}

/**
 * Headers that direct the append itself rather than describe the message: replaying them would
 * make the restore refuse or drop stored messages (a `Nats-Msg-Id` seen twice within the
 * duplicate window, an expected sequence of the old stream, a rollup). The backup keeps them;
 * the restore leaves them out. Idempotency of sends does not depend on them afterwards: the
 * message-id KV bucket (restored too) holds it beyond the duplicate window.
 */
const DIRECTIVES = /^nats-(msg-id|expected-.*|rollup)$/i;

export function restoredHeaders(headers: Array<[string, string]> | null): Array<[string, string]> {
  return (headers ?? []).filter(([k]) => !DIRECTIVES.test(k));
}

/**
 * The subject a restore writes placeholders on, one per missing stream position (messages
 * removed by retention or deleted), and purges at the end: so every restored message keeps its
 * original stream sequence, which history, read markers, resume positions and KV revisions refer
 * to. Under the stream's first subject, a token no service reads.
 */
export function fillerSubject(subjects: readonly string[]): string {
  const first = subjects[0] ?? '';
  const base = first.replace(/\.(>|\*)$/, '').replace(/\.\*\./g, '.x.');
  return `${base}._restore_gap`;
}
