import { connect, type NatsConnection } from '@nats-io/transport-node';
import { ChatError, createSubjects, decodeModerationEvent, usernameKey } from '@chat/contracts';
import { JetStreamAdapter, encodeJson, streamSpecs } from '@chat/messaging';
import { BaseConfig, loadConfig } from '@chat/platform';
import { deleteNamespace, randomName, testNatsUrl } from '@chat/testing';
import { openDeployment, type Deployment } from './deployment';
import { UserCommands } from './users';

jest.setTimeout(60_000);

/**
 * The account commands against a real NATS server, on the streams and accounts bucket the
 * services create: each appends the event the services already follow, and each refusal
 * (unknown account, nothing to change, an administrator) appends nothing.
 */
describe('admin users - first administrator, disable and enable as moderation events', () => {
  const ns = randomName('au');
  const s = createSubjects(ns);
  let nc: NatsConnection;
  let d: Deployment;
  let users: UserCommands;
  const amy = { userId: '7d3c1f0e-1c1a-4a57-9d43-7a3f7c0d2b11', username: 'Amy' };
  const ben = { userId: '0b9d8a5e-3f1c-4b8e-9e21-5d2f6c7a8e90', username: 'Ben' };

  beforeAll(async () => {
    nc = await connect({ servers: await testNatsUrl() });
    const js = new JetStreamAdapter(nc);
    await js.ensureStreams(streamSpecs(s));
    const kv = await js.kv(s.kv.accounts);
    for (const u of [amy, ben])
      await kv.create(usernameKey(u.username), encodeJson({ ...u, passwordHash: 'x', createdAt: new Date().toISOString() }));
    const config = loadConfig(BaseConfig, { NATS_URL: await testNatsUrl(), NATS_NAMESPACE: ns, SERVER_ADMINS: 'Root' });
    d = await openDeployment(config);
    users = new UserCommands(d);
  });

  afterAll(async () => {
    await d?.close();
    await deleteNamespace(ns, await testNatsUrl()).catch(() => undefined);
    await nc?.close();
  });

  /** Every event stored on a moderation subject, decoded. */
  async function events(subject: string): Promise<Array<{ type: string; payload: Record<string, unknown>; actor: unknown }>> {
    const out = [];
    for (let seq = 1; ;) {
      const m = await new JetStreamAdapter(nc).nextOnSubject(s.streams.moderation.name, subject, seq);
      if (!m) return out;
      const decoded = decodeModerationEvent(m.raw);
      if (!decoded.ok) throw new Error(`undecodable event at ${m.seq}`);
      out.push({
        type: decoded.event.type,
        payload: decoded.event.payload as unknown as Record<string, unknown>,
        actor: decoded.event.actor,
      });
      seq = m.seq + 1;
    }
  }

  const refusal = async (p: Promise<unknown>) => {
    const err = await p.then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ChatError);
    return (err as ChatError).code;
  };

  it('create-admin appends ServerRoleSet once; a second time is a CONFLICT; an unknown name NOT_FOUND', async () => {
    const r = await users.createAdmin('amy');
    expect(r.user).toEqual(amy);
    expect(await events(s.moderation.role(amy.userId))).toEqual([
      {
        type: 'ServerRoleSet',
        payload: { ...amy, role: 'admin', byUserId: amy.userId, byUsername: amy.username },
        actor: { kind: 'system', id: 'admin-cli' },
      },
    ]);
    expect(await refusal(users.createAdmin('AMY'))).toBe('CONFLICT');
    expect(await refusal(users.createAdmin('root'))).toBe('NOT_FOUND');
    expect(await refusal(users.createAdmin('nobody'))).toBe('NOT_FOUND');
    expect(await events(s.moderation.role(amy.userId))).toHaveLength(1);
  });

  it('disable-user bans, enable-user lifts; repeats are CONFLICTs and administrators are refused', async () => {
    expect(await refusal(users.disableUser('amy', 'no'))).toBe('FORBIDDEN');
    expect(await refusal(users.enableUser('ben'))).toBe('CONFLICT');
    await users.disableUser('ben', 'spam');
    expect(await refusal(users.disableUser('ben', 'again'))).toBe('CONFLICT');
    await users.enableUser('Ben');
    expect((await events(s.moderation.access(ben.userId))).map((e) => [e.type, e.payload])).toEqual([
      ['UserServerBanned', { ...ben, reason: 'spam', review: false, rule: null, byUserId: null, byUsername: null }],
      ['UserServerUnbanned', { ...ben, byUserId: null, byUsername: null }],
    ]);
    expect(await events(s.moderation.access(amy.userId))).toEqual([]);
  });
});
