import type { DynamicModule, Provider } from '@nestjs/common';
import { loadConfig, startService, type RunningService } from '@chat/platform';
import { testNatsUrl } from '@chat/testing';
import { ModerationConfig } from '../../config';
import { ModerationModule } from '../../moderation.module';
import { ReportsPort, SanctionsPort, StrikesPort } from '../../ports';
import { MODERATION_SUBSCRIBERS } from '../runner';
import type { AnySubscriber } from '../subscriber';

/** What the fake ports were asked, in order: `[method, argument]`. */
export type PortCalls = Array<[string, unknown]>;

/** Ports that only record what they are asked (for tests of the runner, not of sanctions/ or reports/). */
export function recordingPorts(calls: PortCalls): Provider[] {
  const record = (name: string) => async (arg: unknown) => void calls.push([name, arg]);
  return [
    // The send check (moderation.check) reads bans and mutes: nobody is banned or muted here.
    {
      provide: SanctionsPort,
      useValue: { muteByRule: record('muteByRule'), warnByRule: record('warnByRule'), isServerBanned: () => false, activeMute: () => null },
    },
    { provide: StrikesPort, useValue: { record: record('strike') } },
    { provide: ReportsPort, useValue: { fileByRule: async (arg: unknown) => (calls.push(['fileByRule', arg]), 'report-1') } },
  ];
}

const tokenOf = (p: Provider): unknown => (typeof p === 'function' ? p : p.provide);

/**
 * A moderation service replica running `subscribers` instead of the registered list
 * ('registered': the list of registry.ts, configured by `env`); with
 * `ports`, those providers replace the service's own ports. Everything else is the real
 * module on the real NATS (the test's namespace).
 */
export async function startModerationWith(
  namespace: string,
  subscribers: AnySubscriber[] | 'registered',
  opts: { env?: Record<string, string>; ports?: Provider[] } = {},
): Promise<RunningService> {
  const config = loadConfig(ModerationConfig, {
    NATS_URL: await testNatsUrl(),
    NATS_NAMESPACE: namespace,
    HTTP_PORT: '0',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    ...opts.env,
  });
  const replaced = new Set<unknown>((opts.ports ?? []).map(tokenOf));
  const added = [...(opts.ports ?? [])];
  if (subscribers !== 'registered') {
    replaced.add(MODERATION_SUBSCRIBERS);
    added.push({ provide: MODERATION_SUBSCRIBERS, useValue: subscribers });
  }
  return startService({
    name: 'moderation',
    config,
    rpc: true,
    module: (platform) => {
      const m: DynamicModule = ModerationModule.register(platform);
      const kept = (m.providers ?? []).filter((p) => !replaced.has(tokenOf(p)));
      return { ...m, providers: [...kept, ...added] };
    },
  });
}
