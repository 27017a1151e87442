// Who is typing, said in one line (pure, unit-tested).

/** "alice is typing…", "alice and bob are typing…", "several people are typing…", or '' for nobody. */
export function typingText(names: readonly string[]): string {
  if (names.length === 0) return '';
  if (names.length === 1) return `${names[0]} is typing…`;
  if (names.length === 2) return `${names[0]} and ${names[1]} are typing…`;
  return 'several people are typing…';
}
