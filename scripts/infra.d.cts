// Types for scripts/infra.cjs, so TypeScript tests can use it.
type Log = (message: string) => void;
export declare const root: string;
export declare function reachable(host: string, port: number, timeoutMs?: number): Promise<boolean>;
export declare function ensureNats(log?: Log): Promise<string>;
export declare function ensurePostgres(log?: Log, database?: string): Promise<string>;
/** Initialises (once) and starts a detached PostgreSQL cluster; resolves to a function that stops it. */
export declare function startLocalPostgres(port: number, log: Log, pgData?: string): Promise<() => Promise<void>>;
export declare function postgresBinaries(): { initdb: string; pgCtl: string; source: string } | null;
