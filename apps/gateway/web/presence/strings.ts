import { defineStrings } from '../i18n/define';

// The strings of presence/: English, and Simplified Chinese with the same keys (i18n/define.ts).
export default defineStrings({}, {});
