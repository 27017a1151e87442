import { Injectable } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { ChatError, type MessageView } from '@chat/contracts';
import { RpcClient } from '@chat/messaging';

/**
 * Pauses before asking history again for a message it does not know: a message accepted a moment
 * ago may not be projected yet (a reply or a reaction to a message that just arrived). Together
 * well under a second, so a real NOT_FOUND is still answered quickly.
 */
const RETRY_DELAYS_MS = [150, 400];

/**
 * A message as the history service holds it (`history.message`): its author, room, deleted
 * state and reactions, which the rooms service does not keep. Asked only after the room's own
 * rules let the caller in.
 */
@Injectable()
export class MessageLookup {
  constructor(private readonly rpc: RpcClient) {}

  /** null when history does not know the message (after a few short retries); its other errors (UNAVAILABLE) are thrown. */
  async find(roomId: string, messageId: string, userId: string, correlationId: string): Promise<MessageView | null> {
    for (let attempt = 0; ; attempt++) {
      const r = await this.rpc.call('history.message', { roomId, messageId, userId }, { correlationId });
      if (r.ok) return r.data;
      if (r.error.code !== 'NOT_FOUND') throw new ChatError(r.error.code, r.error.message);
      const delay = RETRY_DELAYS_MS[attempt];
      if (delay === undefined) return null;
      await sleep(delay);
    }
  }
}
