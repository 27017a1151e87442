import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { JwtModule } from '@nestjs/jwt';
import type { Subjects } from '@chat/contracts';
import { JetStreamAdapter } from '@chat/messaging';
import { CONFIG, SUBJECTS } from '@chat/platform';
import { AccountsController, AdminUsersController, OwnAccountController } from './accounts/accounts.controller';
import { AccountsService } from './accounts/accounts.service';
import { PasswordHasher } from './accounts/passwords';
import { TokenService } from './accounts/tokens';
import { BearerGuard } from './accounts/bearer.guard';
import { SessionCheck } from './accounts/session-check';
import { SessionStore } from './accounts/session-store';
import { KvAttemptLists } from './accounts/attempt-lists';
import { LoginThrottle, RegistrationThrottle } from './accounts/login-throttle';
import { ServerBans } from './accounts/server-bans';
import type { GatewayConfig } from './config';
import { LiveFanout } from './fanout/live.subscriber';
import { Resumer } from './fanout/resumer';
import { HttpErrorFilter } from './http/http-error.filter';
import { OriginPolicy } from './http/origin';
import { AccessEnforcer } from './moderation/access-enforcer';
import { ModerationFiltersController } from './moderation/filters.controller';
import { GatewayMetrics } from './metrics';
import { OperationDispatcher } from './operations/dispatcher';
import { LocalOps } from './operations/local-handlers';
import { RpcForwarder } from './operations/rpc-forwarder';
import { TypingSignals } from './operations/typing';
import { PresencePublisher } from './sessions/presence.publisher';
import { SESSION_RESUME } from './sessions/session-resume';
import { SESSION_ROOMS } from './sessions/session-rooms';
import { SessionRevocations } from './sessions/revocations';
import { Sessions } from './sessions/sessions';
import { ORIGIN_CHECK, WIRE_LISTENER, WsServer, type OriginCheck } from './wire/ws.server';

@Module({})
export class GatewayModule {
  static register(platform: DynamicModule, config: GatewayConfig): DynamicModule {
    return {
      module: GatewayModule,
      imports: [
        platform,
        JwtModule.register({
          secret: config.JWT_SECRET,
          signOptions: { algorithm: 'HS256' },
          verifyOptions: { algorithms: ['HS256'] },
        }),
      ],
      controllers: [AccountsController, OwnAccountController, AdminUsersController, ModerationFiltersController],
      providers: [
        { provide: APP_FILTER, useClass: HttpErrorFilter },
        {
          provide: PasswordHasher,
          useFactory: (c: GatewayConfig) => new PasswordHasher({ memoryKiB: c.ARGON2_MEMORY_KIB, iterations: c.ARGON2_ITERATIONS }),
          inject: [CONFIG],
        },
        TokenService,
        {
          // The login and registration limits' counts, in a KV bucket every gateway shares
          // (opened on first use); records older than the longest window are dropped by the bucket.
          provide: KvAttemptLists,
          useFactory: (c: GatewayConfig, js: JetStreamAdapter, s: Subjects) =>
            new KvAttemptLists(() =>
              js.kv(s.kv.limits, { history: 1, ttl: Math.max(c.LOGIN_FAILURE_WINDOW_S, c.REGISTER_WINDOW_S) * 1000 }),
            ),
          inject: [CONFIG, JetStreamAdapter, SUBJECTS],
        },
        {
          provide: LoginThrottle,
          useFactory: (c: GatewayConfig, lists: KvAttemptLists) =>
            new LoginThrottle(
              {
                windowMs: c.LOGIN_FAILURE_WINDOW_S * 1000,
                maxPerAccount: c.LOGIN_MAX_FAILURES,
                maxPerAddress: c.LOGIN_MAX_FAILURES_PER_ADDRESS,
              },
              lists,
            ),
          inject: [CONFIG, KvAttemptLists],
        },
        {
          provide: RegistrationThrottle,
          useFactory: (c: GatewayConfig, lists: KvAttemptLists) =>
            new RegistrationThrottle({ windowMs: c.REGISTER_WINDOW_S * 1000, max: c.REGISTER_MAX_PER_ADDRESS }, lists),
          inject: [CONFIG, KvAttemptLists],
        },
        SessionStore,
        ServerBans,
        SessionCheck,
        BearerGuard,
        AccountsService,
        GatewayMetrics,
        // Layers, bottom up: wire -> sessions -> fanout / operations. The lower layers name
        // what they need from above as a port, bound here.
        Sessions,
        PresencePublisher,
        SessionRevocations,
        AccessEnforcer,
        LiveFanout,
        { provide: SESSION_ROOMS, useExisting: LiveFanout },
        TypingSignals,
        Resumer,
        { provide: SESSION_RESUME, useExisting: Resumer },
        LocalOps,
        RpcForwarder,
        OperationDispatcher,
        { provide: WIRE_LISTENER, useExisting: OperationDispatcher },
        {
          provide: ORIGIN_CHECK,
          useFactory: (c: GatewayConfig): OriginCheck => {
            const policy = new OriginPolicy(c.ALLOWED_ORIGINS);
            return (origin, host) => policy.allows(origin, host);
          },
          inject: [CONFIG],
        },
        WsServer,
      ],
    };
  }
}
