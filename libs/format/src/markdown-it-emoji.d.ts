// markdown-it-emoji ships no types, and @types/markdown-it-emoji is written against
// @types/markdown-it 14 (markdown-it 15 has its own types): the little we use, typed here.
declare module 'markdown-it-emoji' {
  import type { MarkdownIt } from 'markdown-it';

  export interface EmojiOptions {
    /** Shortcode (without colons) → emoji; the plugin's full list by default. */
    defs?: Record<string, string>;
    /** Emoji name → text shortcuts such as `:)`; an empty object turns them off. */
    shortcuts?: Record<string, string | string[]>;
    /** Only these names (all when empty). */
    enabled?: string[];
  }
  export type EmojiPlugin = (md: MarkdownIt, options?: EmojiOptions) => void;
  /** Every GitHub / Slack shortcode. */
  export const full: EmojiPlugin;
  export const light: EmojiPlugin;
  export const bare: EmojiPlugin;
}
