import { makeEvent, type MessageEdited } from '@chat/contracts';
import { randomUUID } from 'node:crypto';
import { posted } from '../testing/events';
import { LinkSpamSubscriber } from './link-spam';

// Review of issue 9: the link-spam subscriber looks at MessagePosted only. A spammer posts
// harmless text and then edits links into it (message.edit goes through the filter chain but
// not through this rule), so the rule never sees a link: its whole protection is bypassed.
const t0 = Date.parse('2026-05-01T12:00:00Z');
const at = (s: number) => new Date(t0 + s * 1000);

function edited(p: { roomId: string; messageId: string; senderId: string; body: string }, time: Date): MessageEdited {
  return makeEvent<MessageEdited>(
    { now: () => time, newId: randomUUID, actor: { kind: 'user', id: p.senderId }, correlationId: randomUUID() },
    'MessageEdited',
    1,
    { ...p, mentions: [] },
  );
}

describe('review - link spam added by editing', () => {
  it('links edited into messages count like posted ones: the edit that reaches the count is redacted', () => {
    const sub = new LinkSpamSubscriber({ links: 3, rooms: 3, windowMs: 60_000 });
    const ann = randomUUID();
    const verdicts = [];
    for (let i = 0; i < 3; i++) {
      const post = posted({ senderId: ann, body: 'hi', roomId: `r${i}` }, at(i));
      verdicts.push(...sub.handle(post));
      const { messageId, roomId } = post.payload;
      verdicts.push(...sub.handle(edited({ roomId, messageId, senderId: ann, body: 'https://spam.example/free' }, at(i + 1)) as never));
    }
    expect(verdicts.map((v) => v.kind)).toContain('redact');
  });
});
