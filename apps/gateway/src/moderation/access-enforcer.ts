import { Injectable } from '@nestjs/common';
import { closeOf, type AccessChange } from '../accounts/access-changes';
import { ServerBans } from '../accounts/server-bans';
import type { Session } from '../sessions/session';
import { Sessions } from '../sessions/sessions';

/**
 * Ends the connections here of a user banned from the server (4412) or kicked (4413), as each
 * access change is applied (every gateway follows the stream, so every gateway closes its own):
 * authenticated connections and those still authenticating (an auth in progress then answers
 * that the connection closed; a new one is refused SERVER_BANNED by the session check).
 */
@Injectable()
export class AccessEnforcer {
  constructor(
    bans: ServerBans,
    private readonly sessions: Sessions,
  ) {
    bans.listen((change) => this.enforce(change));
  }

  enforce(change: AccessChange): void {
    const close = closeOf(change);
    if (!close) return;
    // Copied first: each close changes the set as the sockets go.
    const doomed: Session[] = [...this.sessions.ofUser(change.userId)];
    for (const session of doomed) session.close(close.code, close.reason);
  }
}
