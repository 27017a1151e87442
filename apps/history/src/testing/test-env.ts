import { testDatabaseUrl, testNatsUrl } from '@chat/testing';

/** Environment of a history service under test: its own namespace and schema, quiet logs. */
export async function historyTestEnv(
  namespace: string,
  schema: string,
  extra: Record<string, string> = {},
): Promise<Record<string, string>> {
  return {
    NATS_URL: await testNatsUrl(),
    NATS_NAMESPACE: namespace,
    HTTP_PORT: '0',
    LOG_LEVEL: 'silent',
    DATABASE_URL: await testDatabaseUrl(),
    DATABASE_SCHEMA: schema,
    ...extra,
  };
}
