import type { DomainEntry, LinkAction } from '@chat/contracts';
import { LinkifyIt } from 'linkify-it';
import { allow, type ContentRule, type FilterScope, type RuleOutcome } from './rule';
import { plainText } from './text/plain';

/** A link found in a message: its host, lower case, without a trailing dot. */
export interface FoundLink {
  readonly host: string;
  readonly text: string;
}

// Top-level domains looked for in links written without a scheme ("example.xyz"), beyond
// linkify-it's own short list (com, org, net, ..., and every two-letter country code). A
// configured domain's TLD is always added, so a listed domain is found however it is written.
const EXTRA_TLDS = [
  'app',
  'dev',
  'io',
  'xyz',
  'top',
  'site',
  'online',
  'club',
  'live',
  'link',
  'click',
  'store',
  'tech',
  'cc',
  'gg',
  'ly',
  'me',
  'tv',
  'co',
];

const CJK = '\\p{Script=Han}\\p{Script=Hiragana}\\p{Script=Katakana}\\p{Script=Hangul}';
// Cheap evasions of a domain, undone before links are looked for (the text is first folded by
// plainText: NFKC turns full-width dots "．" into ".", zero-width characters are gone):
// "example[.]com", "example(dot)com", "example . com" (spaces on both sides of the dot), and an
// ideographic full stop between Latin letters ("example。com").
const bracketDot = /\s*(?:\[\s*(?:\.|dot)\s*\]|\(\s*(?:\.|dot)\s*\)|\{\s*(?:\.|dot)\s*\})\s*/giu;
const spacedDot = /(?<=[\p{L}\p{N}])[ \t]+\.[ \t]+(?=[\p{L}\p{N}])/gu;
const ideographicDot = /(?<=[a-z0-9-])[。｡︒](?=[a-z0-9])/giu;
// Chinese text does not put spaces around a link ("去evil.com看看"); linkify-it wants a
// boundary there, so one is put between CJK and Latin characters.
const cjkLatin = new RegExp(`(?<=[${CJK}])(?=[A-Za-z0-9])|(?<=[A-Za-z0-9/])(?=[${CJK}])`, 'gu');

// A percent-encoded letter, digit, dot or hyphen ("%62ad.example"): browsers decode it in a host.
const percentByte = /%([0-9a-f]{2})/giu;
const hostChar = /^[a-z0-9.-]$/iu;
// Links with a scheme browsers open (http, https, ftp, ws, wss; with "//", "\\" or nothing
// after the colon), read whole and parsed as a URL (WHATWG, as browsers do): the host is what
// follows user info ("http://good.com@bad.example" opens bad.example), and the port is no part
// of it. linkify-it stops at the "@" of user info, so it is not asked about these.
const schemeLink = /(?<![\p{L}\p{N}+.-])(?:https?|ftp|wss?):[^\s<>"'`]+/giu;
const trailingPunctuation = /[.,;:!?)\]}'"]+$/u;
// A port after a bare domain ("example.com:80"): linkify-it finds no link there, so it is dropped.
const bareDomainPort = /(?<=\.[\p{L}\p{N}-]+):\d{1,5}(?!\d)/gu;

/** The text links are looked for in: folded, with the evasions above undone. null: it cannot hold a link (no dot, no "://"). */
export function linkScanText(body: string): string | null {
  // Each replacement runs only when its trigger character is there: most messages have none.
  let text = plainText(body).text;
  if (/[[({]/.test(text)) text = text.replace(bracketDot, '.');
  if (text.includes(' .') || text.includes('\t.')) text = text.replace(spacedDot, '.');
  if (/[。｡︒]/.test(text)) text = text.replace(ideographicDot, '.');
  if (text.includes('%'))
    text = text.replace(percentByte, (m, hex: string) => {
      const ch = String.fromCharCode(parseInt(hex, 16));
      return hostChar.test(ch) ? ch : m;
    });
  if (!text.includes('.') && !text.includes(':')) return null;
  return text.replace(cjkLatin, ' ');
}

/**
 * Finds links: with a scheme (parsed as URLs, see `schemeLink`), `www.` links and bare domains
 * with a known TLD (with linkify-it; a port after one does not hide it). E-mail addresses are not links.
 */
export class LinkFinder {
  private readonly linkify: LinkifyIt;

  constructor(extraTlds: readonly string[] = []) {
    this.linkify = new LinkifyIt({ fuzzyLink: true, fuzzyEmail: false, fuzzyIP: false });
    const tlds = [...new Set([...EXTRA_TLDS, ...extraTlds])];
    this.linkify.tlds(tlds, true);
  }

  find(body: string): FoundLink[] {
    let text = linkScanText(body);
    if (text === null) return [];
    const links: Array<FoundLink & { at: number }> = [];
    if (text.includes(':')) {
      // Each link read as a URL is blanked out for linkify-it, which would read its user info as the host.
      text = text.replace(schemeLink, (raw: string, at: number) => {
        const host = hostOf(raw.replace(trailingPunctuation, ''));
        if (!host) return raw;
        links.push({ host, text: raw, at });
        return ' '.repeat(raw.length);
      });
      // Blanked out to the same length, so positions still order the links as written.
      text = text.replace(bareDomainPort, (port) => ' '.repeat(port.length));
    }
    if (text.includes('.') && this.linkify.test(text))
      for (const m of this.linkify.match(text) ?? []) {
        if (m.schema === 'mailto:') continue;
        const host = hostOf(m.url, 'http://invalid.invalid');
        if (host) links.push({ host, text: m.raw, at: m.index });
      }
    return links.sort((a, b) => a.at - b.at).map(({ host, text }) => ({ host, text }));
  }
}

/** The host of `url` (read on its own, or against `base`), lower case, without a trailing dot or IPv6 brackets. */
function hostOf(url: string, base?: string): string | null {
  try {
    const host = new URL(url, base).hostname.toLowerCase();
    return host.replace(/\.$/, '').replace(/^\[|\]$/g, '') || null;
  } catch {
    return null;
  }
}

/** The action of the most specific entry naming `host` or a parent domain of it, or null. */
function lookup(entries: ReadonlyMap<string, LinkAction>, host: string): LinkAction | null {
  if (!entries.size) return null;
  for (let d = host; ;) {
    const a = entries.get(d);
    if (a !== undefined) return a;
    const dot = d.indexOf('.');
    if (dot < 0) return null;
    d = d.slice(dot + 1);
  }
}

export interface CompiledLinkPolicy {
  /** The server's entries and default (null: `allow`). */
  readonly server: { readonly entries: ReadonlyMap<string, LinkAction>; readonly default: LinkAction };
  /** The room's, if it has a configuration: its default null adds nothing for domains it does not name. */
  readonly room: { readonly entries: ReadonlyMap<string, LinkAction>; readonly default: LinkAction | null } | null;
}

export function compileLinkPolicy(
  server: { default: LinkAction | null; domains: readonly DomainEntry[] },
  room: { default: LinkAction | null; domains: readonly DomainEntry[] } | null,
): CompiledLinkPolicy {
  const map = (ds: readonly DomainEntry[]) => new Map(ds.map((d) => [d.domain.toLowerCase().replace(/\.$/, ''), d.action]));
  return {
    server: { entries: map(server.domains), default: server.default ?? 'allow' },
    room: room ? { entries: map(room.domains), default: room.default } : null,
  };
}

const severity: Readonly<Record<LinkAction, number>> = { allow: 0, hold: 1, block: 2 };

/**
 * What the policy does with a link to `host`, and whose configuration says so. Each scope answers
 * on its own (its most specific entry naming the host or a parent domain, else its default); the
 * more restrictive answer wins (block over hold over allow), the server's on a tie: a room can
 * add restrictions, never lift the server's (a room's `allow` does not beat a server `block`).
 */
export function linkDecision(policy: CompiledLinkPolicy, host: string): { action: LinkAction; scope: FilterScope } {
  const server = lookup(policy.server.entries, host) ?? policy.server.default;
  const room = policy.room ? (lookup(policy.room.entries, host) ?? policy.room.default) : null;
  return room !== null && severity[room] > severity[server] ? { action: room, scope: 'room' } : { action: server, scope: 'server' };
}

export function linkAction(policy: CompiledLinkPolicy, host: string): LinkAction {
  return linkDecision(policy, host).action;
}

/**
 * The link policy: every link of the message is looked up (see `linkDecision`: a domain entry
 * names the domain and all its subdomains, the most specific entry of a scope wins, the more
 * restrictive scope wins). A blocked link refuses the message (one the server blocks is named
 * first: it earns a strike); else one held link holds it. A policy that allows everything
 * costs nothing (links are not even looked for).
 */
export class LinksRule implements ContentRule {
  static readonly ruleName = 'links';
  readonly name = LinksRule.ruleName;
  private readonly finder: LinkFinder | null;

  constructor(private readonly policy: CompiledLinkPolicy) {
    const scopes = policy.room ? [policy.server, policy.room] : [policy.server];
    const idle = scopes.every((s) => (s.default ?? 'allow') === 'allow' && [...s.entries.values()].every((a) => a === 'allow'));
    const tlds = scopes.flatMap((s) => [...s.entries.keys()].map((d) => d.slice(d.lastIndexOf('.') + 1)));
    this.finder = idle ? null : new LinkFinder(tlds);
  }

  check(body: string): RuleOutcome {
    if (!this.finder) return allow(body);
    let held: string | null = null;
    let blocked: string | null = null;
    for (const link of this.finder.find(body)) {
      const { action, scope } = linkDecision(this.policy, link.host);
      if (action === 'block' && scope === 'server') return { action: 'block', reason: `links to ${link.host} are not allowed` };
      if (action === 'block') blocked ??= link.host;
      if (action === 'hold') held ??= link.host;
    }
    if (blocked !== null) return { action: 'block', reason: `links to ${blocked} are not allowed`, scope: 'room' };
    return held === null ? allow(body) : { action: 'hold', reason: `a link to ${held} waits for a moderator` };
  }
}
