import type { Provider } from '@nestjs/common';
import { CONFIG } from '@chat/platform';
import type { ModerationConfig } from '../config';
import { AccountAges } from './account-ages';
import { moderationSubscribers } from './registry';
import { MODERATION_SUBSCRIBERS, SubscriberRunner } from './runner';
import { VerdictExecutor, VerdictSink } from './verdicts';

/** What moderation.module.ts adds for the subscribers: the list (registry.ts), the runner and what carries out verdicts. */
export const subscriberProviders: Provider[] = [
  { provide: MODERATION_SUBSCRIBERS, inject: [CONFIG], useFactory: (config: ModerationConfig) => moderationSubscribers(config) },
  { provide: VerdictSink, useClass: VerdictExecutor },
  AccountAges,
  SubscriberRunner,
];
