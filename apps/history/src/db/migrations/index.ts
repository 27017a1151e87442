import { InitialSchema1795480356658 } from './1795480356658-InitialSchema';
import { RoomMembership1796107641984 } from './1796107641984-RoomMembership';
import { RoomRights1796200000000 } from './1796200000000-RoomRights';
import { MessageLifecycle1796300000000 } from './1796300000000-MessageLifecycle';
import { ReadsStatsRetention1796300000001 } from './1796300000001-ReadsStatsRetention';
import { LifecycleIndexes1796300000002 } from './1796300000002-LifecycleIndexes';
import { StatsBackfill1796300000003 } from './1796300000003-StatsBackfill';

/** Every migration, oldest first. Append new ones; never edit one that has shipped. */
export const migrations = [
  InitialSchema1795480356658,
  RoomMembership1796107641984,
  RoomRights1796200000000,
  MessageLifecycle1796300000000,
  ReadsStatsRetention1796300000001,
  LifecycleIndexes1796300000002,
  StatsBackfill1796300000003,
];
