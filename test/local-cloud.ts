// Starts the local cloud exactly as a user does (`npm run dev -- --port N --state DIR`)
// in a child process, on a free port with its own state folder.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';

export const ROOT = resolve(import.meta.dirname, '..');

export interface LocalCloud {
  url: string;
  authUrl: string;
  port: number;
  stateDir: string;
  cloudsYaml: string;
  passwords: { admin: string; demo: string };
  /** Milliseconds from spawn to the ready line. */
  startMs: number;
  /** The spawned npm process, root of the cloud's process tree (the benchmarks sum its RSS). */
  pid: number;
  stop(): Promise<void>;
}

// The cloud runs as a process group (npm, node, workerd); one may be gone already.
function signalGroup(child: ChildProcess, signal: NodeJS.Signals) {
  try {
    process.kill(-child.pid!, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

export function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.once('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? ok(addr.port) : fail(new Error('no port'))));
    });
  });
}

export async function startLocalCloud(opts: { stateDir?: string; port?: number; env?: Record<string, string>; args?: string[] } = {}): Promise<LocalCloud> {
  const stateDir = opts.stateDir ?? mkdtempSync(join(tmpdir(), 'flarestack-test-'));
  const port = opts.port ?? (await freePort());
  const cloudsYaml = join(stateDir, 'clouds.yaml');
  const t0 = performance.now();
  const child: ChildProcess = spawn(
    'npm',
    ['run', 'dev', '--', '--port', String(port), '--state', stateDir, '--clouds-yaml', cloudsYaml, ...(opts.args ?? [])],
    { cwd: ROOT, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  );
  // The cloud's own output stays in its state folder, for reading when a test fails.
  const logFile = createWriteStream(join(stateDir, 'cloud.log'), { flags: 'a' });
  child.stdout!.pipe(logFile);
  child.stderr!.pipe(logFile);
  let log = '';
  await new Promise<void>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`local cloud not ready in 60 s:\n${log}`)), 60_000);
    const onData = (d: Buffer) => {
      log += d.toString();
      if (log.includes('Flarestack is ready at')) {
        clearTimeout(timer);
        ok();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`local cloud exited with ${code}:\n${log}`));
    });
  });
  const startMs = performance.now() - t0;
  const clouds = parse(readFileSync(cloudsYaml, 'utf8')) as {
    clouds: Record<string, { auth: { password: string } }>;
  };
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    authUrl: `${url}/identity/v3`,
    port,
    stateDir,
    cloudsYaml,
    startMs,
    pid: child.pid!,
    passwords: {
      admin: clouds.clouds['flarestack-admin']!.auth.password,
      demo: clouds.clouds['flarestack-demo']!.auth.password,
    },
    stop: () =>
      new Promise<void>((ok) => {
        const exited = () => child.exitCode !== null || child.signalCode !== null;
        if (exited()) return ok();
        child.removeAllListeners('exit');
        child.once('exit', () => ok());
        signalGroup(child, 'SIGTERM');
        setTimeout(() => {
          if (!exited()) signalGroup(child, 'SIGKILL');
        }, 5000).unref();
      }),
  };
}
