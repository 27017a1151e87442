import type { KvBucket } from '@chat/messaging';
import { decodeJson, encodeJson } from '@chat/messaging';
import { ReadMarkers } from './read-markers';
import { lastReadOf } from './reads.store';

/** An in-memory bucket with the server's revision checks; `beforeWrite` lets a test slip a rival write in. */
function fakeKv(beforeWrite: (kv: KvBucket) => Promise<void> = async () => undefined) {
  const values = new Map<string, { value: Uint8Array; revision: number }>();
  let revision = 0;
  const write = (key: string, value: Uint8Array) => {
    values.set(key, { value, revision: ++revision });
    return revision;
  };
  const kv: KvBucket = {
    get: async (key) => {
      const v = values.get(key);
      return v ? { ...v, operation: 'PUT' } : null;
    },
    create: async (key, value) => {
      await beforeWrite(kv);
      if (values.has(key)) throw new Error('wrong last sequence');
      return write(key, value);
    },
    put: async (key, value) => write(key, value),
    update: async (key, value, previous) => {
      await beforeWrite(kv);
      if (values.get(key)?.revision !== previous) throw new Error('wrong last sequence');
      return write(key, value);
    },
    delete: async (key) => void values.delete(key),
    keys: async () =>
      (async function* () {
        yield* [...values.keys()];
      })(),
    status: async () => ({}),
  };
  return { kv, values };
}

const now = new Date('2026-03-01T00:00:00Z');

describe('read markers - only forward', () => {
  it('creates, then moves forward; a lower or equal position changes nothing', async () => {
    const markers = new ReadMarkers(fakeKv().kv);
    expect(await markers.advance('u', 'r', 5, now)).toEqual({ lastRead: 5, moved: true, time: now.toISOString() });
    expect((await markers.advance('u', 'r', 3, now)).moved).toBe(false);
    expect((await markers.advance('u', 'r', 5, now)).moved).toBe(false);
    expect(await markers.advance('u', 'r', 9, now)).toMatchObject({ lastRead: 9, moved: true });
    expect(await markers.get('u', 'r')).toEqual({ lastRead: 9, time: now.toISOString() });
  });

  it('a rival device writing a higher position between read and write wins; the loser does not move it back', async () => {
    let rivalled = false;
    const { kv } = fakeKv(async (bucket) => {
      if (rivalled) return;
      rivalled = true;
      await bucket.put('u.r', encodeJson({ lastRead: 20, time: 'rival' }));
    });
    const markers = new ReadMarkers(kv);
    expect(await markers.advance('u', 'r', 10, now)).toEqual({ lastRead: 20, time: 'rival', moved: false });
    expect(decodeJson((await kv.get('u.r'))!.value)).toEqual({ lastRead: 20, time: 'rival' });
  });

  it('a rival writing a lower position: the retry still moves the marker to the higher one', async () => {
    let rivalled = false;
    const { kv } = fakeKv(async (bucket) => {
      if (rivalled) return;
      rivalled = true;
      await bucket.put('u.r', encodeJson({ lastRead: 4, time: 'rival' }));
    });
    const markers = new ReadMarkers(kv);
    expect(await markers.advance('u', 'r', 10, now)).toMatchObject({ lastRead: 10, moved: true });
  });

  it('a value that is not a marker counts as none and is replaced', async () => {
    const { kv } = fakeKv();
    await kv.put('u.r', new TextEncoder().encode('garbage'));
    const markers = new ReadMarkers(kv);
    expect(await markers.get('u', 'r')).toEqual({ lastRead: 0, time: '' });
    expect(await markers.advance('u', 'r', 2, now)).toMatchObject({ lastRead: 2, moved: true });
  });

  it('lastRead: the marker, or the join when that is later (never marked, or marked before leaving)', () => {
    expect(lastReadOf(undefined, 7)).toBe(7);
    expect(lastReadOf(3, 7)).toBe(7);
    expect(lastReadOf(12, 7)).toBe(12);
  });
});
