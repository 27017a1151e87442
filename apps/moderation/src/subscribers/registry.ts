import type { ModerationConfig } from '../config';
import { LinkSpamSubscriber } from './rules/link-spam';
import { NewAccountFloodSubscriber } from './rules/new-account-flood';
import type { AnySubscriber } from './subscriber';

/**
 * THE list of moderation subscribers: add yours here (docs/extending-moderation.md). Each one
 * gets its own durable consumer `mod-sub-<name>`; MOD_SUBSCRIBERS_DISABLED turns one off.
 */
export function moderationSubscribers(config: ModerationConfig): AnySubscriber[] {
  return [
    new LinkSpamSubscriber({
      links: config.MOD_LINK_SPAM_LINKS,
      rooms: config.MOD_LINK_SPAM_ROOMS,
      windowMs: config.MOD_LINK_SPAM_WINDOW_S * 1000,
    }),
    new NewAccountFloodSubscriber({
      accountAgeMs: config.MOD_NEW_ACCOUNT_HOURS * 3_600_000,
      messages: config.MOD_NEW_ACCOUNT_MESSAGES,
      windowMs: config.MOD_NEW_ACCOUNT_WINDOW_S * 1000,
      muteSeconds: config.MOD_NEW_ACCOUNT_MUTE_S,
    }),
  ];
}
