import { fillerSubject, renamer, restoredHeaders, streamKind } from './namespace';

describe('namespace - which streams belong to a deployment', () => {
  it('claims its streams and KV buckets, and not those of a namespace that starts the same', () => {
    expect(streamKind('chat', 'CHAT_CHAT', ['chat.chat.>'])).toBe('stream');
    expect(streamKind('chat', 'CHAT_MODERATION', ['chat.mod.>'])).toBe('stream');
    expect(streamKind('chat', 'KV_chat_accounts', ['$KV.chat_accounts.>'])).toBe('kv');
    expect(streamKind('chat', 'CHAT_X_CHAT', ['chat_x.chat.>'])).toBeNull();
    expect(streamKind('chat', 'KV_chat_x_reads', ['$KV.chat_x_reads.>'])).toBeNull();
    expect(streamKind('chat_x', 'CHAT_X_CHAT', ['chat_x.chat.>'])).toBe('stream');
    expect(streamKind('chat_x', 'KV_chat_x_reads', ['$KV.chat_x_reads.>'])).toBe('kv');
    // A stream named like ours whose subjects are someone else's is not ours.
    expect(streamKind('chat', 'CHAT_OTHER', ['other.>'])).toBeNull();
    expect(streamKind('chat', 'KV_chat_accounts', ['$KV.other.>'])).toBeNull();
  });
});

describe('namespace - renaming a stream into another namespace', () => {
  const r = renamer('old_ns', 'fresh');
  it('renames stream names, subjects and KV subjects', () => {
    expect(r.streamName('OLD_NS_CHAT')).toBe('FRESH_CHAT');
    expect(r.streamName('KV_old_ns_reads')).toBe('KV_fresh_reads');
    expect(r.subject('old_ns.chat.room.general.msg')).toBe('fresh.chat.room.general.msg');
    expect(r.subject('old_ns.live.chat.>')).toBe('fresh.live.chat.>');
    expect(r.subject('$KV.old_ns_reads.u1.general')).toBe('$KV.fresh_reads.u1.general');
  });
  it('refuses a name of another namespace rather than guess', () => {
    expect(() => r.subject('other.chat.room.x.msg')).toThrow('does not belong to the namespace "old_ns"');
    expect(() => r.streamName('OTHER_CHAT')).toThrow('does not belong');
  });
});

describe('namespace - what a restore writes', () => {
  it('leaves out append directives and keeps every other header in order', () => {
    expect(
      restoredHeaders([
        ['Nats-Msg-Id', 'm-1'],
        ['Nats-Expected-Last-Subject-Sequence', '4'],
        ['nats-expected-stream', 'X'],
        ['Nats-Rollup', 'sub'],
        ['KV-Operation', 'DEL'],
        ['X-Trace', 'a'],
        ['X-Trace', 'b'],
      ]),
    ).toEqual([
      ['KV-Operation', 'DEL'],
      ['X-Trace', 'a'],
      ['X-Trace', 'b'],
    ]);
    expect(restoredHeaders(null)).toEqual([]);
  });
  it('puts placeholders under the stream, on a token no service reads', () => {
    expect(fillerSubject(['ns.chat.>'])).toBe('ns.chat._restore_gap');
    expect(fillerSubject(['$KV.ns_reads.>'])).toBe('$KV.ns_reads._restore_gap');
    expect(fillerSubject(['ns.presence.user.*'])).toBe('ns.presence.user._restore_gap');
  });
});
