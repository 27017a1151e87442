import { Inject, Injectable, Logger } from '@nestjs/common';
import { emptyFilterConfig, type FilterConfig, type FilterConfigSet, type FilterConfigView, type UserView } from '@chat/contracts';
import { CONFIG } from '@chat/platform';
import type { ModerationConfig } from '../config';
import { ModerationLog, type StoredModerationEvent } from '../log/moderation-log';
import { FilterChain, ServerFilters } from '../rules/chain';

interface ScopeState {
  config: FilterConfig;
  updatedAt: string;
  updatedBy: UserView;
  position: number;
}

/** The filter configurations set so far (server and per room), as the FilterConfigSet events left them. */
export interface FilterConfigState {
  server: ScopeState | null;
  rooms: Map<string, ScopeState>;
}

export const emptyFilterState = (): FilterConfigState => ({ server: null, rooms: new Map() });

/** Folds one FilterConfigSet: the scope's whole configuration replaces what it had. Pure (mutates the state it is given). */
export function evolveFilters(state: FilterConfigState, event: FilterConfigSet, position: number): FilterConfigState {
  const p = event.payload;
  const s: ScopeState = { config: p.config, updatedAt: event.time, updatedBy: { userId: p.byUserId, username: p.byUsername }, position };
  if (p.scope === 'server') state.server = s;
  else if (p.roomId !== null) state.rooms.set(p.roomId, s);
  return state;
}

/**
 * The content filters as this replica knows them: folded from the FilterConfigSet events of the
 * moderation stream (ModerationLog), so a change made through any replica applies on every
 * replica as soon as its log has the event (milliseconds; no restart). Chains are compiled
 * lazily and kept: the server's shared part (its word list, the costly bit, with BLOCKED_WORDS
 * from the configuration as extra `block` words) once per server change, each room's chain on
 * the room's first message after a change of the server or of that room. A change drops only
 * what it affects (a server change: every chain; a room change: that room's). While the stream
 * replays at start-up nothing is compiled; the server part is compiled once the replay is done.
 */
@Injectable()
export class FilterConfigs {
  private readonly log = new Logger(FilterConfigs.name);
  private readonly state = emptyFilterState();
  private readonly extraBlocked: string[];
  private server: ServerFilters | null = null;
  private readonly chains = new Map<string, FilterChain>();
  private serverOnly: FilterChain | null = null;

  constructor(
    private readonly moderationLog: ModerationLog,
    @Inject(CONFIG) config: Pick<ModerationConfig, 'BLOCKED_WORDS'>,
  ) {
    this.extraBlocked = config.BLOCKED_WORDS.split(',').filter((w) => w.trim());
    moderationLog.onEvent((e) => this.onEvent(e));
  }

  private onEvent({ event, position }: StoredModerationEvent): void {
    if (event.type !== 'FilterConfigSet') return;
    evolveFilters(this.state, event, position);
    if (event.payload.scope === 'server') {
      this.server = null;
      this.serverOnly = null;
      this.chains.clear();
    } else if (event.payload.roomId !== null) this.chains.delete(event.payload.roomId);
    // Compile the shared part now rather than in the next message's send path (not during the
    // replay, where later events may replace it at once).
    if (event.payload.scope === 'server' && this.moderationLog.isCaughtUp()) setImmediate(() => this.serverFilters());
  }

  /** The configuration of a scope as set (`position` 0: never set, the empty configuration). */
  view(roomId: string | null): FilterConfigView {
    const s = roomId === null ? this.state.server : (this.state.rooms.get(roomId) ?? null);
    return {
      scope: roomId === null ? 'server' : 'room',
      roomId,
      config: s?.config ?? emptyFilterConfig(),
      updatedAt: s?.updatedAt ?? null,
      updatedBy: s?.updatedBy ?? null,
      position: s?.position ?? 0,
    };
  }

  /** The chain a message in `roomId` goes through: the server's filters joined with the room's. */
  chainFor(roomId: string): FilterChain {
    const room = this.state.rooms.get(roomId);
    if (!room) return this.serverChain();
    let chain = this.chains.get(roomId);
    if (!chain) {
      chain = new FilterChain(this.serverFilters(), room.config);
      this.chains.set(roomId, chain);
    }
    return chain;
  }

  /** The server's filters alone (rooms without a configuration of their own, and `mod.filters.test` of the server scope). */
  serverChain(): FilterChain {
    this.serverOnly ??= new FilterChain(this.serverFilters(), null);
    return this.serverOnly;
  }

  private serverFilters(): ServerFilters {
    if (!this.server) {
      const started = Date.now();
      this.server = new ServerFilters(this.state.server?.config ?? emptyFilterConfig(), this.extraBlocked);
      const ms = Date.now() - started;
      if (ms > 100) this.log.log({ msg: 'server filters compiled', ms, words: this.server.words.matcher.size });
    }
    return this.server;
  }
}
