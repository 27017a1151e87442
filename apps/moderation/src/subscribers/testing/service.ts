import type { DynamicModule } from '@nestjs/common';
import { loadConfig, startService, type RunningService } from '@chat/platform';
import { testNatsUrl } from '@chat/testing';
import { ModerationConfig } from '../../config';
import { ModerationModule } from '../../moderation.module';
import { MODERATION_SUBSCRIBERS } from '../runner';
import type { AnySubscriber } from '../subscriber';

/**
 * A whole moderation service replica (its real sanctions, strikes and reports) on the real
 * NATS, in the test's namespace, running `subscribers` instead of the registered list
 * ('registered': the list of registry.ts, configured by `env`).
 */
export async function startModerationWith(
  namespace: string,
  subscribers: AnySubscriber[] | 'registered',
  opts: { env?: Record<string, string> } = {},
): Promise<RunningService> {
  const config = loadConfig(ModerationConfig, {
    NATS_URL: await testNatsUrl(),
    NATS_NAMESPACE: namespace,
    HTTP_PORT: '0',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    ...opts.env,
  });
  return startService({
    name: 'moderation',
    config,
    rpc: true,
    module: (platform) => {
      const m: DynamicModule = ModerationModule.register(platform);
      if (subscribers === 'registered') return m;
      const kept = (m.providers ?? []).filter((p) => typeof p === 'function' || p.provide !== MODERATION_SUBSCRIBERS);
      return { ...m, providers: [...kept, { provide: MODERATION_SUBSCRIBERS, useValue: subscribers }] };
    },
  });
}
