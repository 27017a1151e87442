import { defineStrings } from './i18n/define';

// The strings of the page's frame (index.html, main.ts, session.ts, the top bar, the login form):
// English, and Simplified Chinese with the same keys (i18n/define.ts).
export default defineStrings({}, {});
