import type { RunningService } from '@chat/platform';
import { deleteNamespace, randomName } from '@chat/testing';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startTestGateway } from '../testing/test-gateway';

// The web client's files as a browser gets them: gzipped when accepted, always revalidated
// (Cache-Control: no-cache), 304 while unchanged, and the new file after a deploy changed it.
describe('gateway - the web client files', () => {
  const ns = randomName();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chat-public-'));
  const bundle = `console.log(${JSON.stringify('你好，世界 '.repeat(400))});\n`;
  let svc: RunningService;

  beforeAll(async () => {
    fs.mkdirSync(path.join(dir, 'bundle'));
    fs.writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>Chat</title>');
    fs.writeFileSync(path.join(dir, 'bundle', 'app.js'), bundle);
    svc = await startTestGateway(ns, { PUBLIC_DIR: dir });
  });
  afterAll(async () => {
    await svc?.close();
    await deleteNamespace(ns);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('serves the page at / and the bundle gzipped when the browser accepts gzip, revalidated on every load', async () => {
    const page = await fetch(`${svc.url}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>Chat</title>');
    expect(page.headers.get('cache-control')).toBe('no-cache');

    const gz = await fetch(`${svc.url}/bundle/app.js`, { headers: { 'accept-encoding': 'gzip' } });
    expect(gz.status).toBe(200);
    expect(gz.headers.get('content-encoding')).toBe('gzip');
    expect(gz.headers.get('cache-control')).toBe('no-cache');
    expect(await gz.text()).toBe(bundle); // fetch inflates it: the same bytes arrive

    const plain = await fetch(`${svc.url}/bundle/app.js`, { headers: { 'accept-encoding': 'identity' } });
    expect(plain.headers.get('content-encoding')).toBeNull();
    expect(await plain.text()).toBe(bundle);
  });

  it('answers 304 while the file is unchanged, and the new file once a deploy changed it', async () => {
    const first = await fetch(`${svc.url}/bundle/app.js`);
    const etag = first.headers.get('etag');
    expect(etag).toBeTruthy();
    await first.arrayBuffer();
    // As a browser revalidates its copy (fetch() alone would add `Cache-Control: no-cache` to a
    // conditional request, which asks for the whole file).
    const revalidate = { 'if-none-match': etag!, 'cache-control': 'max-age=0' };
    const again = await fetch(`${svc.url}/bundle/app.js`, { headers: revalidate });
    expect(again.status).toBe(304);

    const next = `${bundle}console.log('v2');\n`;
    fs.writeFileSync(path.join(dir, 'bundle', 'app.js'), next);
    const after = await fetch(`${svc.url}/bundle/app.js`, { headers: revalidate });
    expect(after.status).toBe(200);
    expect(await after.text()).toBe(next);
  });
});
