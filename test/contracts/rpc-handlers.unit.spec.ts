import 'reflect-metadata';
import type { DynamicModule, Type } from '@nestjs/common';
import { PATTERN_METADATA } from '@nestjs/microservices/constants';
import { RpcNames, rpcService } from '@chat/contracts';
import { gatewayService } from '../../apps/gateway/src/service';
import { historyService } from '../../apps/history/src/service';
import { moderationService } from '../../apps/moderation/src/service';
import { presenceService } from '../../apps/presence/src/service';
import { roomsService } from '../../apps/rooms/src/service';

/**
 * Every RPC operation of the contracts' table is answered: the service named by the part
 * before the dot serves RPC and registers exactly one `@MessagePattern` for it in a controller
 * of its module (as Nest will find it), and no service registers a pattern for an operation it
 * does not own. Read from the services' own definitions, so a new controller counts at once.
 */
describe('contracts - every RPC operation has its handler', () => {
  // Only module structure is read: nothing is started, so no configuration is needed.
  const definitions: Array<{ name: string; rpc?: boolean; module: (platform: DynamicModule, deps: never) => DynamicModule }> = [
    gatewayService({ JWT_SECRET: 'x'.repeat(32) } as never),
    historyService({} as never),
    moderationService({} as never),
    presenceService({} as never),
    roomsService({} as never),
  ];
  const platform: DynamicModule = { module: class Platform {} };

  function controllers(mod: DynamicModule): Type[] {
    const nested = (mod.imports ?? []).filter(
      (m): m is DynamicModule => typeof m === 'object' && m !== null && 'module' in m && m !== platform,
    );
    return [...((mod.controllers ?? []) as Type[]), ...nested.flatMap(controllers)];
  }

  /** The patterns each service's controllers register, with the handler that registers it. */
  const registered = definitions.map((def) => {
    const patterns: Array<{ pattern: string; handler: string }> = [];
    for (const ctrl of controllers(def.module(platform, {} as never))) {
      for (const key of Object.getOwnPropertyNames(ctrl.prototype)) {
        const method = Object.getOwnPropertyDescriptor(ctrl.prototype, key)?.value;
        if (typeof method !== 'function') continue;
        const metadata = (Reflect.getMetadata(PATTERN_METADATA, method) ?? []) as unknown[];
        for (const pattern of metadata) patterns.push({ pattern: String(pattern), handler: `${ctrl.name}.${key}` });
      }
    }
    return { service: def.name, rpc: def.rpc === true, patterns };
  });

  it.each(RpcNames.map((n) => [n]))('%s is handled once, by its service', (name) => {
    const owner = registered.find((s) => s.service === rpcService(name));
    expect({ name, service: rpcService(name), exists: !!owner, servesRpc: owner?.rpc }).toEqual({
      name,
      service: rpcService(name),
      exists: true,
      servesRpc: true,
    });
    expect({ name, handlers: owner!.patterns.filter((p) => p.pattern === name).length }).toEqual({ name, handlers: 1 });
  });

  it('no service handles an operation it does not own, or one the contracts do not declare', () => {
    const strays = registered.flatMap((s) =>
      s.patterns
        .filter((p) => !(RpcNames as string[]).includes(p.pattern) || rpcService(p.pattern as never) !== s.service)
        .map((p) => `${s.service}: ${p.handler} handles "${p.pattern}"`),
    );
    expect(strays).toEqual([]);
  });

  it('finds the handlers it checks (rooms.post is RoomsController.post)', () => {
    expect(registered.find((s) => s.service === 'rooms')!.patterns).toContainEqual({
      pattern: 'rooms.post',
      handler: 'RoomsController.post',
    });
  });
});
