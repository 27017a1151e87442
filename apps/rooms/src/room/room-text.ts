import { ChatError, Limits } from '@chat/contracts';

/**
 * A room name or topic as stored: NFKC-normalised, then checked again, because the request's
 * validation saw the text before normalisation, and NFKC can lengthen it (U+FDFA is one
 * character that becomes 18) or turn a compatibility character into a leading space
 * (U+00A8 becomes a space and a combining diaeresis). Refused text changes nothing.
 */
export function roomText(field: 'name' | 'topic', raw: string): string {
  const text = raw.normalize('NFKC');
  const max = field === 'name' ? Limits.roomNameMaxChars : Limits.topicMaxChars;
  const problems: string[] = [];
  // In code points, as the request's validation counts (an emoji is one character, not two).
  if ([...text].length > max) problems.push(`${field} must be at most ${max} characters after Unicode NFKC normalisation`);
  if (field === 'name') {
    if (text.length === 0) problems.push('name must not be empty');
    if (text !== text.trim()) problems.push('name must not start or end with a space after Unicode NFKC normalisation');
    if (/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u.test(text)) problems.push('name must not contain control or format characters');
  }
  if (problems.length) throw new ChatError('BAD_REQUEST', problems.join('; '), [{ field, problems }]);
  return text;
}
