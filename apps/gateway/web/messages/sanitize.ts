import DOMPurify, { type Config } from 'dompurify';
import { ALLOWED_ATTR, ALLOWED_CLASS, ALLOWED_TAGS, ALLOWED_URI, LINK_ATTRS } from './sanitize-config';

// The one way a message's HTML (MessageView.html, message.edited's html) reaches the page. The
// server makes it safe by construction (libs/format escapes all text), and the page does not
// take that on trust: DOMPurify keeps only the tags and attributes libs/format emits
// (sanitize-config.ts), hrefs only http(s)/mailto, and every link opens in a new tab with
// rel="noopener noreferrer nofollow". Nothing in it can run script or load anything.

const purify = DOMPurify(window);

purify.addHook('afterSanitizeAttributes', (node) => {
  if (node instanceof HTMLElement && node.hasAttribute('class')) {
    const kept = [...node.classList].filter((c) => ALLOWED_CLASS.test(c));
    if (kept.length) node.className = kept.join(' ');
    else node.removeAttribute('class');
  }
  if (node instanceof HTMLAnchorElement) {
    if (!node.hasAttribute('href')) node.removeAttribute('target');
    else for (const [name, value] of Object.entries(LINK_ATTRS)) node.setAttribute(name, value);
  } else if (node instanceof Element) {
    node.removeAttribute('target');
    node.removeAttribute('rel');
  }
});

const CONFIG: Config & { RETURN_DOM_FRAGMENT: true } = {
  ALLOWED_TAGS: [...ALLOWED_TAGS],
  ALLOWED_ATTR: [...ALLOWED_ATTR],
  ALLOWED_URI_REGEXP: ALLOWED_URI,
  // DOMPurify checks every listed attribute's value against the URI pattern unless it is
  // "URI-safe": only href is a URI here (an ordered list's start, a mention's user id are not).
  ADD_URI_SAFE_ATTR: ALLOWED_ATTR.filter((a) => a !== 'href'),
  ALLOW_DATA_ATTR: false,
  ALLOW_ARIA_ATTR: false,
  RETURN_DOM_FRAGMENT: true,
};

/** A message's HTML as inert, sanitised nodes, ready to append. */
export function sanitizedFragment(html: string): DocumentFragment {
  return purify.sanitize(html, CONFIG);
}
