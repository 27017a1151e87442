import type { DomainEntry, LinkAction } from '@chat/contracts';
import { LinkifyIt } from 'linkify-it';
import { allow, type ContentRule, type RuleOutcome } from './rule';
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

/** The text links are looked for in: folded, with the evasions above undone. null: it cannot hold a link (no dot, no "://"). */
export function linkScanText(body: string): string | null {
  // Each replacement runs only when its trigger character is there: most messages have none.
  let text = plainText(body).text;
  if (/[[({]/.test(text)) text = text.replace(bracketDot, '.');
  if (text.includes(' .') || text.includes('\t.')) text = text.replace(spacedDot, '.');
  if (/[。｡︒]/.test(text)) text = text.replace(ideographicDot, '.');
  if (!text.includes('.') && !text.includes('://')) return null;
  return text.replace(cjkLatin, ' ');
}

/** Finds links (with a scheme, `www.`, or bare domains with a known TLD) with linkify-it. E-mail addresses are not links. */
export class LinkFinder {
  private readonly linkify: LinkifyIt;

  constructor(extraTlds: readonly string[] = []) {
    this.linkify = new LinkifyIt({ fuzzyLink: true, fuzzyEmail: false, fuzzyIP: false });
    const tlds = [...new Set([...EXTRA_TLDS, ...extraTlds])];
    this.linkify.tlds(tlds, true);
  }

  find(body: string): FoundLink[] {
    const text = linkScanText(body);
    if (text === null || !this.linkify.test(text)) return [];
    const links: FoundLink[] = [];
    for (const m of this.linkify.match(text) ?? []) {
      if (m.schema === 'mailto:') continue;
      const host = hostOf(m.url);
      if (host) links.push({ host, text: m.raw });
    }
    return links;
  }
}

function hostOf(url: string): string | null {
  try {
    const host = new URL(url, 'http://invalid.invalid').hostname.toLowerCase();
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
  /** The room's entries (looked at first), then the server's. */
  readonly scopes: ReadonlyArray<ReadonlyMap<string, LinkAction>>;
  readonly default: LinkAction;
}

export function compileLinkPolicy(
  server: { default: LinkAction | null; domains: readonly DomainEntry[] },
  room: { default: LinkAction | null; domains: readonly DomainEntry[] } | null,
): CompiledLinkPolicy {
  const map = (ds: readonly DomainEntry[]) => new Map(ds.map((d) => [d.domain.toLowerCase().replace(/\.$/, ''), d.action]));
  return {
    scopes: room ? [map(room.domains), map(server.domains)] : [map(server.domains)],
    default: room?.default ?? server.default ?? 'allow',
  };
}

/** What the policy does with a link to `host`: the room's most specific entry, else the server's, else the default. */
export function linkAction(policy: CompiledLinkPolicy, host: string): LinkAction {
  for (const scope of policy.scopes) {
    const a = lookup(scope, host);
    if (a !== null) return a;
  }
  return policy.default;
}

/**
 * The link policy: every link of the message is looked up (a domain entry names the domain and
 * all its subdomains; the most specific entry wins, the room's before the server's; else the
 * default). One blocked link refuses the message; else one held link holds it. A policy that
 * allows everything costs nothing (links are not even looked for).
 */
export class LinksRule implements ContentRule {
  static readonly ruleName = 'links';
  readonly name = LinksRule.ruleName;
  private readonly finder: LinkFinder | null;

  constructor(private readonly policy: CompiledLinkPolicy) {
    const idle = policy.default === 'allow' && policy.scopes.every((s) => [...s.values()].every((a) => a === 'allow'));
    const tlds = policy.scopes.flatMap((s) => [...s.keys()].map((d) => d.slice(d.lastIndexOf('.') + 1)));
    this.finder = idle ? null : new LinkFinder(tlds);
  }

  check(body: string): RuleOutcome {
    if (!this.finder) return allow(body);
    let held: string | null = null;
    for (const link of this.finder.find(body)) {
      const action = linkAction(this.policy, link.host);
      if (action === 'block') return { action: 'block', reason: `links to ${link.host} are not allowed` };
      if (action === 'hold') held ??= link.host;
    }
    return held === null ? allow(body) : { action: 'hold', reason: `a link to ${held} waits for a moderator` };
  }
}
