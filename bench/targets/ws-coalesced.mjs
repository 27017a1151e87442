// Target "ws-coalesced": the bare `ws` server of target "ws" (bench/bare-server.mjs, rooms mode)
// with the gateway's write coalescing (BARE_CORK=1: a socket written to in an event-loop turn is
// corked and uncorked from setImmediate, as apps/gateway/src/wire/connection.ts corkForThisTurn
// does), so that the difference between the two is that one technique and nothing else.
import { bareTarget } from './ws.mjs';

export default bareTarget({ name: 'ws-coalesced', cork: true });
