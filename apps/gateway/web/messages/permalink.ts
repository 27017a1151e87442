// Links to one message: `<origin>/#/room/<roomId>/message/<messageId>?p=<position>`. The
// position is part of the link because the server finds a message in its room's history by
// position (`history.page` `around`), not by id; the id picks the message out of the page and
// is what the link is checked against. Pure (unit-tested).

export interface MessageLink {
  roomId: string;
  messageId: string;
  position: number;
}

const HASH = /^#\/room\/([^/?#]+)\/message\/([^/?#]+)\?p=(\d{1,16})$/;

export function messageHash(link: MessageLink): string {
  return `#/room/${encodeURIComponent(link.roomId)}/message/${encodeURIComponent(link.messageId)}?p=${link.position}`;
}

/** The message a location hash points to, or null when it is not a message link. */
export function parseMessageHash(hash: string): MessageLink | null {
  const m = HASH.exec(hash);
  if (!m) return null;
  try {
    const position = Number(m[3]);
    if (!Number.isSafeInteger(position) || position < 1) return null;
    return { roomId: decodeURIComponent(m[1]), messageId: decodeURIComponent(m[2]), position };
  } catch {
    return null; // a malformed escape
  }
}
