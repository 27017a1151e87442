import fs from 'node:fs';
import path from 'node:path';
import { once } from 'node:events';
import { DeliverPolicy, type ConsumerConfig, type JetStreamClient, type JetStreamManager, type StreamConfig } from '@nats-io/jetstream';
import { ChatError } from '@chat/contracts';
import { namespaceStreams } from './lag';
import type { StreamKind } from './namespace';

export const BACKUP_FORMAT = 'chat-backup';
export const BACKUP_VERSION = 1;

/** `manifest.json` of a backup directory. */
export interface Manifest {
  format: typeof BACKUP_FORMAT;
  version: typeof BACKUP_VERSION;
  namespace: string;
  createdAt: string;
  streams: StreamBackup[];
}

export interface StreamBackup {
  name: string;
  kind: StreamKind;
  config: StreamConfig;
  /** The stream's state when its messages were read: every message up to `lastSeq` is in the file. */
  state: { messages: number; bytes: number; firstSeq: number; lastSeq: number };
  /** Lines written (messages stored at or below `state.lastSeq` when they were read). */
  messages: number;
  /** Relative to the backup directory: one JSON line per message (BackedUpMessage). */
  file: string;
  /** Durable consumers and the position each had acknowledged everything up to. */
  consumers: Array<{ config: Partial<ConsumerConfig>; ackFloor: number }>;
}

/** One line of a stream file: the message exactly as stored (payload bytes in base64). */
export interface BackedUpMessage {
  seq: number;
  subject: string;
  time: string;
  headers: Array<[string, string]> | null;
  data: string;
}

/**
 * `./chat admin backup --to <dir>`: every stream and KV bucket of the namespace, message by
 * message with its subject, headers, sequence and time, into a new directory, plus each stream's
 * configuration and its durable consumers' positions (manifest.json). Runs against a live
 * deployment: each stream is read by an ordered consumer (no state left on the server) up to its
 * last sequence as of the moment it is reached, so every stream is complete up to that moment;
 * streams are read one after the other, so for one consistent moment across streams stop the
 * services first (docs/operations.md). The history projection in Postgres is not in it: it is
 * rebuilt from the CHAT stream (or dumped with pg_dump, see the docs).
 */
export async function backup(
  d: { js: JetStreamClient; jsm: JetStreamManager },
  namespace: string,
  dir: string,
  progress: (line: string) => void = () => undefined,
): Promise<Manifest> {
  if (fs.existsSync(dir) && fs.readdirSync(dir).length > 0)
    throw new ChatError('CONFLICT', `${dir} exists and is not empty: back up into a new directory`);
  fs.mkdirSync(path.join(dir, 'streams'), { recursive: true });
  const streams = await namespaceStreams(d.jsm, namespace);
  if (streams.length === 0) throw new ChatError('NOT_FOUND', `the namespace "${namespace}" has no streams on this NATS server`);
  const manifest: Manifest = {
    format: BACKUP_FORMAT,
    version: BACKUP_VERSION,
    namespace,
    createdAt: new Date().toISOString(),
    streams: [],
  };
  for (const { info, kind } of streams) {
    const name = info.config.name;
    const file = path.join('streams', `${name}.jsonl`);
    // The consumers first: a position read before the messages is never past them.
    const consumers: StreamBackup['consumers'] = [];
    for await (const c of d.jsm.consumers.list(name)) {
      if (!c.config.durable_name) continue;
      const { deliver_policy, opt_start_seq } = c.config;
      const start = deliver_policy === DeliverPolicy.StartSequence && opt_start_seq ? opt_start_seq - 1 : 0;
      consumers.push({ config: c.config, ackFloor: Math.max(c.ack_floor.stream_seq, start) });
    }
    const state = (await d.jsm.streams.info(name)).state;
    const written = await writeMessages(d.js, name, state.first_seq, state.last_seq, state.messages, path.join(dir, file));
    manifest.streams.push({
      name,
      kind,
      config: info.config,
      state: { messages: state.messages, bytes: state.bytes, firstSeq: state.first_seq, lastSeq: state.last_seq },
      messages: written,
      file,
      consumers,
    });
    progress(`${name}: ${written} messages (positions ${state.first_seq}-${state.last_seq}), ${consumers.length} durable consumers`);
  }
  fs.writeFileSync(path.join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

/** Reads the stream from `first` to `last` in order and writes one line per message; resolves how many. */
async function writeMessages(
  js: JetStreamClient,
  stream: string,
  first: number,
  last: number,
  stored: number,
  file: string,
): Promise<number> {
  const out = fs.createWriteStream(file);
  let written = 0;
  const write = async (line: string) => {
    if (!out.write(line)) await once(out, 'drain');
  };
  try {
    if (stored > 0) {
      const consumer = await js.consumers.get(stream, { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: first });
      let done = false;
      let empty = 0;
      while (!done) {
        let got = 0;
        // Each pull is read to its end (an ordered consumer must not be broken off mid-pull).
        for await (const m of await consumer.fetch({ max_messages: 1000, expires: 2000 })) {
          got++;
          if (done || m.seq > last) {
            done = true;
            continue;
          }
          const headers: Array<[string, string]> = [];
          for (const k of m.headers?.keys() ?? []) for (const v of m.headers!.values(k)) headers.push([k, v]);
          const line: BackedUpMessage = {
            seq: m.seq,
            subject: m.subject,
            time: m.timestamp,
            headers: headers.length ? headers : null,
            data: Buffer.from(m.data).toString('base64'),
          };
          await write(`${JSON.stringify(line)}\n`);
          written++;
          if (m.seq >= last || m.info.pending === 0) done = true;
        }
        // Nothing came three pulls in a row: the messages up to `last` were removed meanwhile
        // (retention); done. (One empty pull can be a slow server.)
        empty = got === 0 ? empty + 1 : 0;
        if (empty >= 3) done = true;
      }
    }
  } finally {
    out.end();
    await once(out, 'close');
  }
  return written;
}

export function readManifest(dir: string): Manifest {
  let manifest: Manifest;
  try {
    manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as Manifest;
  } catch (err) {
    throw new ChatError('BAD_REQUEST', `${dir} is not a backup: ${(err as Error).message}`);
  }
  if (manifest?.format !== BACKUP_FORMAT || manifest.version !== BACKUP_VERSION || !Array.isArray(manifest.streams))
    throw new ChatError('BAD_REQUEST', `${dir}/manifest.json is not a ${BACKUP_FORMAT} version ${BACKUP_VERSION} manifest`);
  return manifest;
}
