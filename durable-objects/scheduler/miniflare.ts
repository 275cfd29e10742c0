// Runs the Scheduler object in a local workerd (Miniflare) behind the harness Worker, for
// the tests and the benchmark: bundled with esbuild as the local cloud bundles its Workers.
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { workerBuild } from '../../scripts/worker-build';
import { Log, LogLevel, Miniflare } from 'miniflare';
import type { Scheduler } from '../scheduler';

export interface SchedulerWorkerOptions {
  /** Where the object's SQLite storage lives; in memory when unset. */
  persistDir?: string;
  /** SCHEDULER_WEIGHER and the like. */
  bindings?: Record<string, string>;
}

type Method = 'upsertHost' | 'upsertHosts' | 'setHostStatus' | 'selectDestinations' | 'claimAlternate' | 'releaseClaim' | 'hypervisors' | 'hostState';

export interface SchedulerWorker {
  url: string;
  /** Calls an RPC method of the object over HTTP; what comes back is its JSON (Sets as arrays). */
  call<M extends Method>(method: M, ...args: Parameters<Scheduler[M]>): Promise<unknown>;
  /** POSTs JSON to a path of the harness. */
  post(path: string, body: unknown): Promise<unknown>;
  dispose(): Promise<void>;
}

let bundled: Promise<string> | undefined;

function bundle(): Promise<string> {
  bundled ??= build({
    ...workerBuild(fileURLToPath(new URL('./harness.ts', import.meta.url))),
    write: false,
  }).then((r) => r.outputFiles[0]!.text);
  return bundled;
}

export async function startSchedulerWorker(options: SchedulerWorkerOptions = {}): Promise<SchedulerWorker> {
  const mf = new Miniflare({
    modules: true,
    script: await bundle(),
    compatibilityDate: '2026-04-26',
    host: '127.0.0.1',
    port: 0,
    cf: false,
    log: new Log(LogLevel.WARN),
    bindings: options.bindings ?? {},
    durableObjects: { SCHEDULER: { className: 'Scheduler', useSQLite: true } },
    durableObjectsPersist: options.persistDir ?? false,
  });
  const url = (await mf.ready).toString().replace(/\/$/, '');
  const post = async (path: string, body: unknown): Promise<unknown> => {
    const res = await fetch(`${url}${path}`, { method: 'POST', body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } });
    const text = await res.text();
    if (!res.ok) throw new Error(`${path}: HTTP ${res.status}: ${text}`);
    return JSON.parse(text) as unknown;
  };
  return {
    url,
    call: (method, ...args) => post(`/${method}`, args),
    post,
    dispose: () => mf.dispose(),
  };
}
