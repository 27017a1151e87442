/**
 * PLACEHOLDER (replaced by the search work): the `tsvector` literal indexed for a message body.
 * The messages read model writes `searchVector(body)::tsvector` into messages.search on insert
 * and edit, and NULL on delete.
 */
export function searchVector(text: string): string {
  const words =
    text
      .normalize('NFKC')
      .toLowerCase()
      .match(/[\p{L}\p{N}]+/gu) ?? [];
  return words.map((w, i) => `'${w.replace(/'/g, "''").replace(/\\/g, '\\\\')}':${i + 1}`).join(' ');
}
