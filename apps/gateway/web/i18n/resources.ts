import account from '../account/strings';
import conversations from '../conversations/strings';
import members from '../members/strings';
import messages from '../messages/strings';
import moderation from '../moderation/strings';
import notifications from '../notifications/strings';
import presence from '../presence/strings';
import reads from '../reads/strings';
import rooms from '../rooms/strings';
import search from '../search/strings';
import shell from '../strings';
import common from './common';
import errors from './errors';

// Every namespace of the page: one per folder (its `strings.ts`), `shell` for the frame,
// `common` for words used everywhere, `errors` for the server's error codes.
export const namespaces = {
  common,
  errors,
  shell,
  account,
  conversations,
  members,
  messages,
  moderation,
  notifications,
  presence,
  reads,
  rooms,
  search,
};

export type NamespaceName = keyof typeof namespaces;
