import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import {
  AckPolicy,
  DeliverPolicy,
  type ConsumerConfig,
  type JetStreamClient,
  type JetStreamManager,
  type PubAck,
  type StreamConfig,
} from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/transport-node';
import { ChatError } from '@chat/contracts';
import { readManifest, type BackedUpMessage, type Manifest, type StreamBackup } from './backup';
import { namespaceStreams } from './lag';
import { fillerSubject, renamer, restoredHeaders } from './namespace';

export interface RestoreOptions {
  /** Replicas of every restored stream (a cluster); default: as in the backup. */
  replicas?: number;
  /** Durable consumers whose position lives elsewhere: not re-created (history keeps its checkpoint in Postgres). */
  skipConsumer?: (name: string) => boolean;
}

export interface RestoredStream {
  name: string;
  messages: number;
  lastSeq: number;
  consumers: string[];
}

/** Durable consumers the restore leaves to their service: history's position is its Postgres checkpoint. */
export const historyConsumer = (name: string) => name === 'history-projector' || name.startsWith('history-projector-');

/** Publishes in flight at once: the restore's order is the connection's, so they land in order. */
const WINDOW = 512;

/**
 * `./chat admin restore --from <dir>`: recreates every stream and KV bucket of a backup in the
 * namespace NATS_NAMESPACE, which must be EMPTY (no stream of it on the server: a fresh
 * deployment, never one in use), renaming streams and subjects from the backup's namespace.
 * Every message is written with its subject, payload and headers at its ORIGINAL stream sequence
 * (each append expects the previous position, so a message can only land where it was):
 * positions are what history rows, read markers, resume points and KV revisions refer to.
 * Positions removed before the backup (retention, deletes) are passed over by a purge when they
 * come first, else by placeholders on a subject nobody reads, purged at the end.
 * Then the durable consumers are re-created at the positions they had acknowledged, except
 * history's (its position is its checkpoint in Postgres: an empty schema is projected again from
 * the start, a restored dump goes on from its checkpoint). Start the services afterwards.
 */
export async function restore(
  d: { js: JetStreamClient; jsm: JetStreamManager },
  namespace: string,
  dir: string,
  opts: RestoreOptions = {},
  progress: (line: string) => void = () => undefined,
): Promise<RestoredStream[]> {
  const manifest = readManifest(dir);
  const existing = await namespaceStreams(d.jsm, namespace);
  if (existing.length > 0)
    throw new ChatError(
      'CONFLICT',
      `the namespace "${namespace}" is not empty (${existing.map((e) => e.info.config.name).join(', ')}): restore only into a fresh namespace; nothing was changed`,
    );
  for (const s of manifest.streams)
    if (!fs.existsSync(path.join(dir, s.file)))
      throw new ChatError('BAD_REQUEST', `${s.file} is missing from the backup; nothing was changed`);
  const rename = renamer(manifest.namespace, namespace);
  const skip = opts.skipConsumer ?? historyConsumer;
  const done: RestoredStream[] = [];
  for (const s of manifest.streams) {
    const name = rename.streamName(s.name);
    const config = restoredConfig(s.config, name, rename, opts.replicas);
    await d.jsm.streams.add(config);
    const { messages, lastSeq } = await writeStream(d, s, name, rename.subject, path.join(dir, s.file), config.subjects);
    const consumers: string[] = [];
    for (const c of s.consumers) {
      const durable = c.config.durable_name;
      if (!durable || skip(durable)) continue;
      await d.jsm.consumers.add(name, restoredConsumer(c.config, c.ackFloor, rename.subject));
      consumers.push(durable);
    }
    done.push({ name, messages, lastSeq, consumers });
    progress(`${name}: ${messages} messages up to position ${lastSeq}${consumers.length ? `, consumers ${consumers.join(', ')}` : ''}`);
  }
  return done;
}

function restoredConfig(c: StreamConfig, name: string, rename: ReturnType<typeof renamer>, replicas?: number): StreamConfig {
  const config: StreamConfig = { ...c, name, subjects: (c.subjects ?? []).map(rename.subject) };
  if (c.republish) config.republish = { ...c.republish, src: rename.subject(c.republish.src), dest: rename.subject(c.republish.dest) };
  if (replicas !== undefined) config.num_replicas = replicas;
  // Set by the server once a stream is sealed; a stream is never created sealed.
  delete (config as Partial<StreamConfig>).sealed;
  return config;
}

function restoredConsumer(c: Partial<ConsumerConfig>, ackFloor: number, subject: (s: string) => string): Partial<ConsumerConfig> {
  const config: Partial<ConsumerConfig> = {
    durable_name: c.durable_name,
    ack_policy: c.ack_policy ?? AckPolicy.Explicit,
    ack_wait: c.ack_wait,
    max_ack_pending: c.max_ack_pending,
    max_deliver: c.max_deliver,
    replay_policy: c.replay_policy,
    description: c.description,
    ...(c.filter_subject ? { filter_subject: subject(c.filter_subject) } : {}),
    ...(c.num_replicas ? { num_replicas: c.num_replicas } : {}),
    deliver_policy: ackFloor > 0 ? DeliverPolicy.StartSequence : DeliverPolicy.All,
    ...(ackFloor > 0 ? { opt_start_seq: ackFloor + 1 } : {}),
  };
  for (const k of Object.keys(config) as Array<keyof ConsumerConfig>) if (config[k] === undefined) delete config[k];
  return config;
}

async function writeStream(
  d: { js: JetStreamClient; jsm: JetStreamManager },
  s: StreamBackup,
  name: string,
  subject: (s: string) => string,
  file: string,
  subjects: string[],
): Promise<{ messages: number; lastSeq: number }> {
  const filler = fillerSubject(subjects);
  const inFlight: Array<{ seq: number; ack: Promise<PubAck> }> = [];
  let next = 1;
  let fillers = 0;
  let messages = 0;
  // Every ack's position is checked against the one the message must land at. (Not with an
  // expected-last-sequence header: after the purge that moves a stream's start, NATS 2.9 checks
  // it against a stale value.) The namespace is empty and no service runs on it yet, so nothing
  // else appends meanwhile.
  const settle = async () => {
    const batch = inFlight.splice(0);
    let acks: PubAck[];
    try {
      acks = await Promise.all(batch.map((p) => p.ack));
    } catch (err) {
      throw restoreFailed(name, batch[0]?.seq ?? next, (err as Error).message);
    }
    acks.forEach((ack, i) => {
      if (ack.seq !== batch[i].seq) throw restoreFailed(name, batch[i].seq, `it landed at position ${ack.seq}`);
    });
  };
  const publish = async (subj: string, data: Uint8Array, hdrs: Array<[string, string]>) => {
    const h = natsHeaders();
    for (const [k, v] of hdrs) h.append(k, v);
    const ack = d.js.publish(subj, data, hdrs.length ? { headers: h } : undefined);
    // Awaited by the next settle; a refusal before then must not count as unhandled (which ends
    // the process) but be reported by that settle.
    ack.catch(() => undefined);
    inFlight.push({ seq: next++, ack });
    if (inFlight.length >= WINDOW) await settle();
  };
  const skipTo = async (seq: number) => {
    if (seq <= next) return;
    if (next === 1) {
      // Nothing stored yet: one purge moves the stream's start to `seq`.
      await settle();
      await d.jsm.streams.purge(name, { seq });
      next = seq;
      return;
    }
    while (next < seq) {
      fillers++;
      await publish(filler, new Uint8Array(0), []);
    }
  };

  const lines = readline.createInterface({ input: fs.createReadStream(file), crlfDelay: Infinity });
  for await (const text of lines) {
    if (!text) continue;
    const m = JSON.parse(text) as BackedUpMessage;
    await skipTo(m.seq);
    if (m.seq !== next) throw new ChatError('BAD_REQUEST', `${file}: position ${m.seq} out of order (expected ${next} or later)`);
    await publish(subject(m.subject), Buffer.from(m.data, 'base64'), restoredHeaders(m.headers));
    messages++;
  }
  // Positions removed at the end of the stream before the backup: the next append goes on after them.
  await skipTo(s.state.lastSeq + 1);
  await settle();
  if (fillers > 0) await d.jsm.streams.purge(name, { filter: filler });
  const state = (await d.jsm.streams.info(name)).state;
  if (state.messages !== messages || state.last_seq !== Math.max(s.state.lastSeq, next - 1))
    throw new ChatError(
      'INTERNAL',
      `restoring ${name}: ${state.messages} messages up to ${state.last_seq} stored, ${messages} up to ${s.state.lastSeq} expected`,
    );
  return { messages, lastSeq: state.last_seq };
}

const restoreFailed = (stream: string, seq: number, why: string) =>
  new ChatError(
    'INTERNAL',
    `restoring ${stream} failed at position ${seq}: ${why}. Delete the namespace's streams (nats stream rm) and restore again into an empty namespace`,
  );

export type { Manifest };
