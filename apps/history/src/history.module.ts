import { Module, type DynamicModule } from '@nestjs/common';
import type { Subjects } from '@chat/contracts';
import { JetStreamAdapter } from '@chat/messaging';
import { CONFIG, HealthRegistry, SUBJECTS } from '@chat/platform';
import type { HistoryConfig } from './config';
import { openDatabase } from './db/data-source';
import { HistoryController } from './history.controller';
import { MembershipQueries } from './membership';
import { MessageQueries } from './messages';
import { ProjectionProgress } from './projection/progress';
import { Projector } from './projection/projector';
import { RoomAccess } from './projection/room-access';
import { ReadMarkers } from './reads/read-markers';
import { ReadsController } from './reads/reads.controller';
import { ReadQueries } from './reads/reads.store';
import { RetentionController } from './retention/retention.controller';
import { RetentionJob } from './retention/retention.job';
import { StatsController } from './stats/stats.controller';
import { StatsQueries } from './stats/stats.store';
import { SearchBackfill } from './search/search.backfill';
import { SearchController } from './search/search.controller';
import { SearchQueries } from './search/search.store';
import { HistoryStore } from './store/history.store';

const DATABASE_HEALTH = Symbol('DATABASE_HEALTH');

@Module({})
export class HistoryModule {
  static register(platform: DynamicModule): DynamicModule {
    return {
      module: HistoryModule,
      imports: [platform],
      controllers: [HistoryController, SearchController, ReadsController, StatsController, RetentionController],
      providers: [
        {
          // Resolved before the app starts serving: RPC handlers and the projector find the
          // schema migrated. The store destroys the DataSource when the app shuts down.
          provide: HistoryStore,
          inject: [CONFIG, SUBJECTS],
          useFactory: async (config: HistoryConfig, s: Subjects) => {
            const ds = await openDatabase({
              url: config.DATABASE_URL,
              schema: config.DATABASE_SCHEMA,
              timeouts: { statementMs: config.DATABASE_STATEMENT_TIMEOUT_MS, lockMs: config.DATABASE_LOCK_TIMEOUT_MS },
            });
            return new HistoryStore(ds, s.consumers.historyProjector, s.chat, { defaultDays: config.RETENTION_DEFAULT_DAYS });
          },
        },
        {
          provide: DATABASE_HEALTH,
          inject: [HealthRegistry, HistoryStore],
          useFactory: (health: HealthRegistry, store: HistoryStore) => {
            health.register('database', () => withTimeout(store.ping(), 2000).then(() => true));
            return true;
          },
        },
        // Each read model's queries, on the store's pooled connections.
        { provide: MessageQueries, inject: [HistoryStore], useFactory: (store: HistoryStore) => new MessageQueries(store) },
        { provide: MembershipQueries, inject: [HistoryStore], useFactory: (store: HistoryStore) => new MembershipQueries(store) },
        { provide: ReadQueries, inject: [HistoryStore], useFactory: (store: HistoryStore) => new ReadQueries(store) },
        { provide: StatsQueries, inject: [HistoryStore], useFactory: (store: HistoryStore) => new StatsQueries(store) },
        // Read markers: the KV bucket is created on first start (one value per key).
        {
          provide: ReadMarkers,
          inject: [JetStreamAdapter, SUBJECTS],
          useFactory: async (js: JetStreamAdapter, s: Subjects) => new ReadMarkers(await js.kv(s.kv.readMarkers, { history: 1 })),
        },
        { provide: SearchQueries, inject: [HistoryStore], useFactory: (store: HistoryStore) => new SearchQueries(store) },
        Projector,
        ProjectionProgress,
        RoomAccess,
        RetentionJob,
        SearchBackfill,
      ],
    };
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
