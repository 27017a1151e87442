import type { NatsConnection } from '@nats-io/transport-node';
import type { Subjects } from '@chat/contracts';
import type { ChatClient } from '@chat/client';
import { loadConfig, startService, type RunningService } from '@chat/platform';
import { deleteNamespace, testNatsUrl } from '@chat/testing';
import { GatewayConfig } from '../config';
import { gatewayService } from '../service';

/** Test-only (excluded from the build): the gateway's integration tests share this set-up. */
export const TEST_JWT_SECRET = 'test-secret-that-is-long-enough-0123456789';

/**
 * Starts a gateway in-process on a namespace of the real NATS, on a free port, with the
 * cheapest argon2 the config accepts (login cost is not what these tests are about).
 */
export async function startTestGateway(namespace: string, extra: Record<string, string> = {}): Promise<RunningService> {
  const config = loadConfig(GatewayConfig, {
    NATS_URL: await testNatsUrl(),
    NATS_NAMESPACE: namespace,
    HTTP_PORT: '0',
    LOG_LEVEL: 'silent',
    JWT_SECRET: TEST_JWT_SECRET,
    ARGON2_MEMORY_KIB: '1024',
    ARGON2_ITERATIONS: '1',
    // Every test user registers from 127.0.0.1; a test of the limit sets it.
    REGISTER_MAX_PER_ADDRESS: '1000000',
    ...extra,
  });
  return startService(gatewayService(config));
}

/**
 * The end of a test file, for whatever of it was started: its clients closed, then its gateways
 * (in order), its NATS connection drained and its namespace deleted.
 */
export async function closeGatewayTest(parts: {
  clients: ChatClient[];
  gateways: (RunningService | undefined)[];
  nc?: NatsConnection;
  s?: Subjects;
}): Promise<void> {
  await Promise.all(parts.clients.map((c) => c.close().catch(() => undefined)));
  for (const gw of parts.gateways) await gw?.close();
  await parts.nc?.drain();
  if (parts.s) await deleteNamespace(parts.s.namespace);
}
