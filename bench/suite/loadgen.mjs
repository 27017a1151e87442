// The suite's load generator: what every scenario uses whatever the target.
//
//   Skip                 thrown by a target (or a scenario part) that cannot run here: the runner
//                        reports "skipped: <reason>" and goes on.
//   Reservoir            latency samples (bench/lib.mjs).
//   groupMeter           CPU % (of one core) and RSS per named process group over an interval.
//   quietCheck           the quiet-machine warning for one measured interval.
//   progress, logLine    one updating progress line on stderr; log lines printed above it.
//   Load, closedLoop, paced
//                        the drivers: senders send bodies `tag:sender:seq:sendTime[:padding]`,
//                        receivers hand every body they get to load.onBody; a closed loop keeps a
//                        window of messages outstanding per sender, a paced stream sends at a
//                        fixed rate. Both measure one window after a warm-up and drain after it.
import fs from 'node:fs';
import os from 'node:os';
import { cpuMeter, now, procRss, Reservoir, sleep } from '../lib.mjs';

export { Reservoir };

/** A target (or part of a scenario) that cannot run on this machine; `message` is the reason shown. */
export class Skip extends Error {
  constructor(reason) {
    super(reason);
    this.name = 'Skip';
  }
}

// ---------------------------------------------------------------------------------------------
// CPU and memory per process group

/**
 * Starts measuring the groups `processes()` names ({ group: [pid, ...] }, asked again at the end,
 * so processes started meanwhile count from then on). Returns stop(), which ends the interval and
 * returns
 *   cpu:         { group: % of one core }
 *   rss:         { group: bytes } (sum over the group's processes, at the end of the interval)
 *   io:          { group: { syscw, syscr } | null } read/write syscalls in the interval (null: not
 *                readable, e.g. a daemon of another user); loadgenIo: the same for this process
 *   loadgen:     this process, % of one core;  loadgenRss: its bytes
 *   machineBusy: % of all cores; steal: hypervisor steal, % of all cores
 *   other:       everything else that ran on the machine, % of one core (steal left out)
 * (bench/lib.mjs cpuMeter underneath; Linux /proc.)
 */
export function groupMeter(processes) {
  const stop = cpuMeter(processes);
  const io0 = ioOf(processes());
  const self0 = procIo('self');
  return () => {
    const c = stop();
    const groups = processes();
    const io1 = ioOf(groups);
    const self1 = procIo('self');
    const rss = {};
    for (const [k, pids] of Object.entries(groups)) rss[k] = pids.map(procRss).reduce((a, b) => a + (b ?? 0), 0);
    const io = {};
    for (const k of Object.keys(io1))
      io[k] = io0[k] && io1[k] ? { syscw: io1[k].syscw - io0[k].syscw, syscr: io1[k].syscr - io0[k].syscr } : null;
    return {
      cpu: c.groups,
      rss,
      io,
      loadgen: c.loadgen,
      loadgenRss: process.memoryUsage.rss(),
      loadgenIo: self0 && self1 ? { syscw: self1.syscw - self0.syscw, syscr: self1.syscr - self0.syscr } : null,
      machineBusy: c.machineBusy,
      steal: c.steal,
      other: c.other,
    };
  };
}

/** Read/write syscall counts of a process (Linux /proc/<pid>/io; only for processes of this user), or null. */
export function procIo(pid) {
  try {
    const io = Object.fromEntries(
      fs
        .readFileSync(`/proc/${pid}/io`, 'utf8')
        .trim()
        .split('\n')
        .map((l) => l.split(': ')),
    );
    return { syscr: Number(io.syscr), syscw: Number(io.syscw) };
  } catch {
    return null;
  }
}

/** Per group: summed syscall counts, null when any of its processes cannot be read (the group was not counted then). */
function ioOf(groups) {
  const out = {};
  for (const [k, pids] of Object.entries(groups)) {
    const xs = pids.map(procIo);
    out[k] =
      xs.length && xs.every(Boolean) ? { syscw: xs.reduce((a, x) => a + x.syscw, 0), syscr: xs.reduce((a, x) => a + x.syscr, 0) } : null;
  }
  return out;
}

/** Sum of the CPU % of all groups of a groupMeter result (the target's whole cost). */
export const targetCpu = (m) => Object.values(m?.cpu ?? {}).reduce((a, b) => a + b, 0);

/** RSS in bytes summed over all groups of a groupMeter result. */
export const targetRss = (m) => Object.values(m?.rss ?? {}).reduce((a, b) => a + b, 0);

/**
 * The quiet-machine check for a groupMeter result: a warning string when other processes used
 * at least 20 % of a core or the hypervisor stole at least 5 % (figures measured so say little),
 * else null.
 */
export function quietCheck(m) {
  if (!m) return null;
  const w = [];
  if ((m.other ?? 0) >= 20) w.push(`other processes used ${m.other}% of a core`);
  if ((m.steal ?? 0) >= 5) w.push(`the hypervisor stole ${m.steal}% of the CPU time`);
  return w.length ? w.join('; ') : null;
}

// ---------------------------------------------------------------------------------------------
// Progress line

const state = { line: '', shown: false, key: null, major: null, printedAt: 0 };
const tty = process.stderr.isTTY;

/**
 * Shows `line` as the one progress line on stderr. On a terminal it is rewritten in place. Elsewhere
 * (a log file) a line is printed only when `key` (the line without its timers) changes, and then
 * at most every 5 s unless `major` (what runs: scenario and target) changed too, so that a log
 * shows the steps without a line a second.
 */
export function progress(line, { key = line, major = null } = {}) {
  if (tty) {
    if (line === state.line && state.shown) return;
    state.line = line;
    const cols = process.stderr.columns || 120;
    process.stderr.write(`\r\x1b[2K${line.length > cols - 1 ? line.slice(0, cols - 2) + '…' : line}`);
    state.shown = true;
    return;
  }
  const t = Date.now();
  if (key === state.key || (major === state.major && t - state.printedAt < 5000)) return;
  state.key = key;
  state.major = major;
  state.printedAt = t;
  process.stderr.write(`${line}\n`);
}

/** Prints `msg` (stdout) above the progress line, which is drawn again below it. */
export function logLine(msg) {
  if (tty && state.shown) process.stderr.write('\r\x1b[2K');
  console.log(msg);
  if (tty && state.shown && state.line) process.stderr.write(state.line);
}

/** Clears the progress line (at the end of a run, before the report). */
export function progressDone() {
  if (tty && state.shown) process.stderr.write('\r\x1b[2K');
  state.shown = false;
  state.line = '';
}

/** `12.3 s`, `4 min 05 s`. */
export function formatElapsed(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${(Math.max(0, ms) / 1000).toFixed(1)} s`;
  return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
}

/**
 * The progress line's text: `[scenario i/n name] [target j/m name] phase · elapsed (total)`.
 * Pure, for tests.
 */
export function formatProgress({ scenario, si, sn, target, ti, tn, phase, phaseMs, totalMs }) {
  const parts = [];
  if (scenario) parts.push(`scenario ${si}/${sn} ${scenario}`);
  if (target) parts.push(`target ${ti}/${tn} ${target}`);
  if (phase) parts.push(phase);
  let s = `[bench] ${parts.join(' · ')}`;
  if (phaseMs !== undefined) s += ` · ${formatElapsed(phaseMs)}`;
  if (totalMs !== undefined) s += ` (total ${formatElapsed(totalMs)})`;
  return s;
}

// ---------------------------------------------------------------------------------------------
// Bodies

/** `tag:sender:seq:sendTime` padded with `:xxx…` to `chars` characters. */
export function makeBody(tag, sender, seq, ts, chars = 64) {
  const s = `${tag}:${sender}:${seq}:${ts.toFixed(3)}`;
  return s.length >= chars ? s : s + ':' + 'x'.repeat(chars - s.length - 1);
}

/** { tag, sender, seq, ts } of a body made by makeBody, or null. */
export function parseBody(body) {
  if (typeof body !== 'string') return null;
  const f = body.split(':', 4);
  if (f.length < 4) return null;
  const sender = Number(f[1]);
  const seq = Number(f[2]);
  const ts = Number(f[3]);
  if (!Number.isInteger(sender) || !Number.isInteger(seq) || !Number.isFinite(ts)) return null;
  return { tag: f[0], sender, seq, ts };
}

// ---------------------------------------------------------------------------------------------
// Drivers

let phaseSeq = 0;

/**
 * The traffic of one scenario part on one target.
 *   senders:   [{ send(body) -> Promise|undefined, expect }]: send is client.send bound to a room;
 *              expect is how many counted deliveries each of its messages gets (the receivers of
 *              its room; the senders' own copies are not handed to onBody).
 *   bodyChars: body length (default 64).
 * Receivers call `load.onBody(body)` for every group message they get (a stable function: the
 * phase running at the time counts it). Bodies of an earlier phase are counted as stale.
 */
export class Load {
  constructor({ senders, bodyChars = 64 }) {
    this.senders = senders.map((s, idx) => ({ ...s, idx, seq: 0, outstanding: 0, lastError: null }));
    this.bodyChars = bodyChars;
    this.phase = null;
    this.stale = 0;
    this.onBody = (body) => {
      const p = this.phase;
      if (!p) return void this.stale++;
      p.onBody(body);
    };
  }
}

/**
 * Saturation: every sender keeps `window` messages outstanding and sends the next one as soon as
 * one completes — complete when every expected receiver has it (`complete: 'deliveries'`, the
 * default: the window bounds what is in flight end to end, a target cannot hide a backlog in
 * socket buffers) or when the server acknowledged it (`complete: 'ack'`, for targets and
 * scenarios where acceptance is what is measured). See runPhase for the other options and the result.
 */
export const closedLoop = (load, o) => runPhase(load, { ...o, kind: 'saturation' });

/**
 * Paced: an open-loop stream of `rate` messages/s over all senders (round robin); a sender with
 * `maxOutstanding` messages outstanding skips its turn (counted as skipped) instead of queueing.
 */
export const paced = (load, o) => runPhase(load, { ...o, kind: 'paced' });

/**
 * One phase: `warmupS` seconds sent but not measured, `seconds` measured, then a drain (up to 20 s,
 * stopping after 3 s without progress) so that the latency of messages sent in the window counts.
 * Options: window (8), rate, maxOutstanding (200), complete ('deliveries'|'ack'), processes
 * (instance.processes, for the CPU/RSS meter), interrupted() (stop early), onTick (called once a
 * second with { sent, delivered, secs } while measuring, for the progress line).
 * Result: sentMsgsPerSec, ackedMsgsPerSec, deliveriesPerSec, latencyMs {p50,p90,p99,max,samples},
 * ackLatencyMs, expected/lost deliveries, failed/skipped sends, lastError, meter (groupMeter),
 * quiet (quietCheck).
 */
async function runPhase(load, o) {
  const {
    kind,
    rate = 0,
    window = 8,
    maxOutstanding = 200,
    complete = 'deliveries',
    warmupS = 2,
    seconds = 10,
    processes = () => ({}),
    interrupted = () => false,
    onTick = null,
  } = o;
  const tag = `p${++phaseSeq}`;
  const senders = load.senders;
  const rec = {
    measuring: false,
    t0: 0,
    t1: 0,
    delivered: 0,
    windowDeliveries: 0,
    windowSent: 0,
    windowFailed: 0,
    windowExpected: 0,
    sent: 0,
    acked: 0,
    failed: 0,
    skipped: 0,
    stale: 0,
    lat: new Reservoir(),
    ack: new Reservoir(),
  };
  const remaining = new Map(); // `${sender}:${seq}` -> deliveries still to come
  let stopSending = false;

  const release = (s, afterFailure = false) => {
    s.outstanding--;
    if (kind !== 'saturation' || stopSending) return;
    // A refused send is not retried at once: a closed target would otherwise fail every send
    // synchronously, in an endless loop.
    if (afterFailure) setTimeout(() => topUp(s), 50);
    else topUp(s);
  };
  const prefix = tag + ':';
  const phase = {
    onBody(body) {
      const t = now();
      if (typeof body !== 'string' || !body.startsWith(prefix)) return void rec.stale++;
      const m = parseBody(body);
      if (!m) return void rec.stale++;
      if (rec.measuring) rec.delivered++;
      if (rec.t0 && m.ts >= rec.t0 && (!rec.t1 || m.ts < rec.t1)) {
        rec.windowDeliveries++;
        rec.lat.add(t - m.ts);
      }
      if (complete !== 'deliveries') return;
      const key = `${m.sender}:${m.seq}`;
      const left = remaining.get(key);
      if (left === undefined) return;
      if (left > 1) remaining.set(key, left - 1);
      else {
        remaining.delete(key);
        release(senders[m.sender]);
      }
    },
  };
  const sendOne = (s) => {
    const ts = now();
    const seq = ++s.seq;
    const key = `${s.idx}:${seq}`;
    const body = makeBody(tag, s.idx, seq, ts, load.bodyChars);
    const expect = s.expect ?? 0;
    if (complete === 'deliveries' && expect > 0) remaining.set(key, expect);
    s.outstanding++;
    rec.sent++;
    const counted = rec.measuring;
    if (counted) {
      rec.windowSent++;
      rec.windowExpected += expect;
    }
    let p;
    try {
      p = s.send(body);
    } catch (err) {
      p = Promise.reject(err);
    }
    const acked = () => {
      rec.acked++;
      if (counted) rec.ack.add(now() - ts);
      if (complete === 'ack') release(s);
    };
    const failed = (err) => {
      rec.failed++;
      if (counted) {
        rec.windowFailed++;
        rec.windowExpected -= expect;
      }
      s.lastError = err?.message ?? String(err);
      if (complete === 'ack') release(s, true);
      else if (remaining.delete(key) || expect === 0) release(s, true);
    };
    if (p && typeof p.then === 'function') p.then(acked, failed);
    else if (complete === 'ack' || expect === 0) {
      // No acknowledgement in this protocol: the send counts as accepted once written; the next
      // send waits for the next event-loop turn (no recursion, and reads get their turn).
      rec.acked++;
      setImmediate(() => release(s));
    }
  };
  const topUp = (s) => {
    while (s.outstanding < window && !stopSending && !interrupted()) sendOne(s);
  };

  load.phase = phase;
  let pacer;
  const start = now();
  if (kind === 'saturation') senders.forEach(topUp);
  else {
    let due = 0;
    const tick = () => {
      if (stopSending || interrupted()) return;
      const dueNow = Math.floor(((now() - start) * rate) / 1000);
      while (due < dueNow) {
        const s = senders[due % senders.length];
        due++;
        if (s.outstanding >= maxOutstanding) rec.skipped++;
        else sendOne(s);
      }
      pacer = setTimeout(tick, 1);
    };
    tick();
  }

  await sleep(warmupS * 1000);
  const meter = groupMeter(processes);
  rec.t0 = now();
  rec.measuring = true;
  const delivered0 = rec.delivered;
  const sent0 = rec.sent;
  const acked0 = rec.acked;
  for (let waited = 0; waited < seconds * 1000 && !interrupted(); waited += 1000) {
    await sleep(Math.min(1000, seconds * 1000 - waited));
    onTick?.({ sent: rec.sent - sent0, delivered: rec.delivered - delivered0, secs: (now() - rec.t0) / 1000 });
  }
  rec.t1 = now();
  rec.measuring = false;
  const m = meter();
  const secs = (rec.t1 - rec.t0) / 1000;
  const sentInWindow = rec.sent - sent0;
  const ackedInWindow = rec.acked - acked0;
  const deliveredInWindow = rec.delivered - delivered0;
  stopSending = true;
  clearTimeout(pacer);

  // Drain: let in-flight messages arrive (latency samples of late messages count), bounded.
  let last = -1;
  let still = 0;
  const drainStart = now();
  while (now() - drainStart < 20_000 && rec.windowDeliveries < rec.windowExpected && !interrupted()) {
    await sleep(250);
    if (rec.windowDeliveries === last) {
      if (++still >= 12) break; // 3 s without progress: what is missing is lost
    } else still = 0;
    last = rec.windowDeliveries;
  }
  // Leftover deliveries/acks of this phase must not count towards the next one.
  await sleep(200);
  load.phase = null;

  const [p50, p90, p99, max] = rec.lat.percentiles([50, 90, 99, 100]);
  const [ack50, ack99] = rec.ack.percentiles([50, 99]);
  return {
    kind,
    offeredMsgsPerSec: kind === 'saturation' ? null : rate,
    window: kind === 'saturation' ? window : null,
    complete,
    seconds: secs,
    sentMsgsPerSec: sentInWindow / secs,
    ackedMsgsPerSec: ackedInWindow / secs,
    deliveriesPerSec: deliveredInWindow / secs,
    latencyMs: { p50, p90, p99, max, samples: rec.lat.n },
    ackLatencyMs: rec.ack.n ? { p50: ack50, p99: ack99, samples: rec.ack.n } : null,
    expectedDeliveries: rec.windowExpected,
    lostDeliveries: Math.max(0, rec.windowExpected - rec.windowDeliveries),
    failedSends: rec.failed,
    skippedSends: rec.skipped,
    staleDeliveries: rec.stale,
    lastError: senders.find((s) => s.lastError)?.lastError ?? null,
    meter: m,
    quiet: quietCheck(m),
  };
}

// ---------------------------------------------------------------------------------------------
// Misc

/** Linux kernel's view of this process's open file descriptor limit (soft), or null. */
export function fdLimit() {
  try {
    const m = /^Max open files\s+(\d+)/m.exec(fs.readFileSync('/proc/self/limits', 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

export const cpuCount = () => os.cpus().length;

/** fn over items with at most `limit` running at once; results (or { error }) in order. */
export async function pool(items, limit, fn) {
  const out = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      try {
        out[i] = await fn(items[i], i);
      } catch (err) {
        out[i] = { error: err?.message ?? String(err) };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** Error messages grouped by kind (numbers and ids blanked), most frequent first. */
export function errorKinds(messages) {
  const kinds = {};
  for (const m of messages) {
    const k = String(m)
      .replace(/[0-9a-f]{8,}/gi, '…')
      .replace(/\d+/g, 'N')
      .slice(0, 80);
    kinds[k] = (kinds[k] ?? 0) + 1;
  }
  return Object.entries(kinds).sort((a, b) => b[1] - a[1]);
}

/** errorKinds as one table cell. */
export const kindsText = (kinds) => kinds.map(([k, n]) => `${n}× ${k}`).join('; ');
