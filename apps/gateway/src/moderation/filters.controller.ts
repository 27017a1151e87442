import { Body, Controller, Get, HttpCode, Put, Query, UseGuards } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import {
  ChatError,
  FilterScopeRequest,
  SetFiltersRequest,
  WsOperations,
  callerFields,
  validateInput,
  type FilterConfigView,
  type Result,
  type RpcResponse,
} from '@chat/contracts';
import { RpcClient } from '@chat/messaging';
import { BearerGuard, CallerOf, type Caller } from '../accounts/bearer.guard';

const unwrap = <T>(r: Result<T>): T => {
  if (r.ok) return r.data;
  throw new ChatError(r.error.code, r.error.message, r.error.details);
};

const valid = <T extends object>(cls: new () => T, input: unknown): T => unwrap(validateInput(cls, input));

/**
 * Content filters over HTTP (Bearer), the same operations as the WebSocket ops
 * `mod.filters.get` / `mod.filters.set`, forwarded to the moderation service: a whole
 * configuration (a 10,000-word list) does not fit a 64 KiB WebSocket frame, so PUT takes a body
 * of up to 1 MiB (service.ts). Who may read or set a scope is the moderation service's decision.
 */
@Controller('api/moderation')
@UseGuards(BearerGuard)
export class ModerationFiltersController {
  constructor(private readonly rpc: RpcClient) {}

  /** GET /api/moderation/filters[?roomId=<id>]: the scope's configuration as set. */
  @Get('filters')
  async get(@CallerOf() caller: Caller, @Query() query: Record<string, unknown>): Promise<FilterConfigView> {
    // `?roomId=` (empty) is the server scope, like no roomId at all.
    const { roomId, ...rest } = query;
    const scope = valid(FilterScopeRequest, roomId === '' || roomId === undefined ? rest : { ...rest, roomId });
    const request = { ...scope, ...callerFields(WsOperations['mod.filters.get'].caller, caller.user) };
    return unwrap(await this.rpc.call('moderation.filters', request, { correlationId: randomUUID() }));
  }

  /** PUT /api/moderation/filters with a SetFiltersRequest: replaces the scope's whole configuration. */
  @Put('filters')
  @HttpCode(200)
  async set(@CallerOf() caller: Caller, @Body() body: unknown): Promise<RpcResponse<'moderation.setFilters'>> {
    const input = valid(SetFiltersRequest, body ?? {});
    const request = { ...input, ...callerFields(WsOperations['mod.filters.set'].caller, caller.user) };
    return unwrap(await this.rpc.call('moderation.setFilters', request, { correlationId: randomUUID() }));
  }
}
