// Types for scripts/stack.cjs, so TypeScript tests can use the launcher.
export declare const SERVICES: string[];
export declare const DEFAULT_PORTS: Record<string, number>;
export interface Stack {
  urls: Record<string, string>;
  procs: Map<
    string,
    { name: string; child: import('node:child_process').ChildProcess; exited: null | { code: number | null; signal: string | null } }
  >;
  stop(name: string, signal?: NodeJS.Signals): Promise<void>;
  start(name: string): Promise<void>;
  restart(name: string, signal?: NodeJS.Signals): Promise<void>;
  startExtra(name: string, service: string, port: number, env?: Record<string, string>): Promise<void>;
  stopAll(): Promise<void>;
}
export declare function startStack(o: {
  env: Record<string, string>;
  ports?: Record<string, number>;
  serviceEnv?: Record<string, Record<string, string>>;
  output?: string;
  readyTimeoutMs?: number;
}): Promise<Stack>;
