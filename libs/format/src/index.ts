export { MESSAGE_HTML_MAX_CHARS, plainHtml, renderMessageHtml } from './message-html';
export { mentionNames, mentionRanges, type MentionNames, type MentionRange } from './mentions';
