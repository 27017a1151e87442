// What a message's HTML may contain once sanitised: exactly what libs/format produces
// (docs/protocol.md "Formatting"; sanitize-config.unit.spec.ts renders a sample of every
// construct with libs/format and checks it fits). Pure data, so it is tested without a DOM.

/** Tags of the markdown subset: paragraphs and breaks, emphasis, strikethrough, code, quotes, lists, links, mentions. */
export const ALLOWED_TAGS = ['p', 'br', 'strong', 'em', 's', 'code', 'pre', 'blockquote', 'ul', 'ol', 'li', 'a', 'span'] as const;

/**
 * Attributes, whatever the tag (DOMPurify's list is global): a link's href/target/rel, an
 * ordered list's start, a mention's class and data-user-id, a code block's language class.
 */
export const ALLOWED_ATTR = ['href', 'target', 'rel', 'start', 'class', 'data-user-id'] as const;

/** Classes kept: a mention, a code block's `language-…`; any other class is dropped. */
export const ALLOWED_CLASS = /^(mention|language-[A-Za-z0-9_+#.-]{1,32})$/;

/** Link targets: http(s) and mailto only (a relative or javascript: href is removed). */
export const ALLOWED_URI = /^(?:https?|mailto):/i;

/** Every link opens in a new tab and tells the target nothing: these are forced onto each `<a>`. */
export const LINK_ATTRS = { target: '_blank', rel: 'noopener noreferrer nofollow' } as const;
