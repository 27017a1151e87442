import { Injectable, Module, type DynamicModule, type OnApplicationBootstrap } from '@nestjs/common';
import { HealthRegistry } from '@chat/platform';
import { ModerationUsers } from './access/users';
import { AuditController } from './audit/audit.controller';
import { AuditService } from './audit/audit.service';
import { CheckClock, SendCheck, systemClock } from './check/send-check';
import { FilterConfigs } from './filters/filter-configs';
import { FiltersController } from './filters/filters.controller';
import { ModerationLog } from './log/moderation-log';
import { ModerationController } from './moderation.controller';
import { PermissionsPort, ReportsPort, SanctionsPort, StrikesPort } from './ports';
import { ReportsController } from './reports/reports.controller';
import { ReportsOps } from './reports/reports.ops';
import { ReportsService } from './reports/reports.service';
import { PermissionsService } from './roles/permissions.service';
import { RolesController } from './roles/roles.controller';
import { MuteExpiry } from './sanctions/mute-expiry';
import { ModerationNews } from './sanctions/news';
import { SanctionsController } from './sanctions/sanctions.controller';
import { SanctionsService } from './sanctions/sanctions.service';
import { StrikesService } from './sanctions/strikes.service';
import { subscriberProviders } from './subscribers/providers';

/** Replays the moderation stream (every state of the service folds it) before the service reports ready. */
@Injectable()
class ModerationStartup implements OnApplicationBootstrap {
  constructor(
    private readonly log: ModerationLog,
    private readonly health: HealthRegistry,
  ) {}

  async onApplicationBootstrap() {
    this.health.register('moderation-replayed', () => this.log.isCaughtUp());
    await this.log.start();
  }
}

/** The parts' states and commands (each folds the moderation stream from its constructor). */
const parts = [
  ModerationUsers,
  ModerationNews,
  PermissionsService,
  SanctionsService,
  StrikesService,
  ReportsService,
  ReportsOps,
  AuditService,
  MuteExpiry,
];

/** The ports (ports.ts) other parts inject, bound to the parts that implement them. */
const ports = [
  { provide: PermissionsPort, useExisting: PermissionsService },
  { provide: SanctionsPort, useExisting: SanctionsService },
  { provide: StrikesPort, useExisting: StrikesService },
  { provide: ReportsPort, useExisting: ReportsService },
];

@Module({})
export class ModerationModule {
  static register(platform: DynamicModule): DynamicModule {
    return {
      module: ModerationModule,
      imports: [platform],
      controllers: [ModerationController, FiltersController, RolesController, SanctionsController, ReportsController, AuditController],
      providers: [
        ModerationLog,
        ModerationStartup,
        ...parts,
        ...ports,
        // The send-path check and the content filters (check/, filters/, rules/).
        FilterConfigs,
        SendCheck,
        { provide: CheckClock, useValue: systemClock },
        ...subscriberProviders,
      ],
    };
  }
}
