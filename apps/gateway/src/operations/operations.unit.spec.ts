import { RpcOperations, WsOpNames, WsOperations, type WsOp } from '@chat/contracts';
import { repoFile, subheadings } from '@chat/testing';
import { LocalOps } from './local-handlers';

/** The operation table against what must follow it: the protocol document and the handlers. */
describe('operations - the table, its documentation and its handlers', () => {
  const ops = Object.entries(WsOperations) as Array<[WsOp, (typeof WsOperations)[WsOp]]>;

  it('every op has a "### <op>" section under "## Ops" in docs/protocol.md, and every section there is an op', () => {
    const documented = subheadings(repoFile('docs/protocol.md'), 'Ops').map((t) => t.replace(/^`(.*)`$/, '$1'));
    expect({ undocumented: WsOpNames.filter((op) => !documented.includes(op)) }).toEqual({ undocumented: [] });
    expect({ notAnOp: documented.filter((t) => !(WsOpNames as readonly string[]).includes(t)) }).toEqual({ notAnOp: [] });
  });

  it('every op the gateway answers itself has a local handler, and no handler is for another op', () => {
    // The handler map's type already makes a missing handler a compile error; this also
    // catches a handler left for an op that is now forwarded.
    const handlers = new LocalOps(null as never, null as never, null as never, null as never, null as never, null as never).handlers;
    const local = ops.filter(([, e]) => e.kind === 'local').map(([op]) => op);
    expect(Object.keys(handlers).sort()).toEqual(local.sort());
  });

  it('every forwarded op names an RPC operation (whose service must have a handler: test/contracts)', () => {
    for (const [op, e] of ops) if (e.kind === 'rpc') expect({ op, rpc: e.rpc in RpcOperations }).toEqual({ op, rpc: true });
  });

  it('only auth and ping are allowed before authentication (docs/protocol.md, "Ops")', () => {
    expect(ops.filter(([, e]) => !e.auth).map(([op]) => op)).toEqual(['auth', 'ping']);
  });

  it('finds subheadings of a section only, outside code fences', () => {
    const md = ['# T', '## Ops', '### a', '```', '### not', '```', '#### deeper', '### `b`', '## Events', '### c'].join('\n');
    expect(subheadings(md, 'Ops')).toEqual(['a', '`b`']);
  });
});
