// What the benchmarks share: plain-text tables, the memory of a process tree, small
// HTTP helpers, and wrk driven through bench/wrk-request.lua.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../test/local-cloud';

const LUA = join(ROOT, 'bench', 'wrk-request.lua');

// ---------------------------------------------------------------- tables

export type Cell = string | number;

/** Plain-text table; numbers are right-aligned. */
export function table(title: string, head: string[], rows: Cell[][]): string {
  const text = rows.map((r) => r.map((c) => String(c)));
  const width = head.map((h, i) => Math.max(h.length, ...text.map((r) => (r[i] ?? '').length)));
  // A column is numeric when every cell is a number, blank or an "n/a (...)" note.
  const numeric = (c: Cell | undefined) => typeof c === 'number' || /^([\d.,]+( %)?|n\/a.*|)$/.test(String(c ?? ''));
  const right = head.map((_, i) => rows.some((r) => /\d/.test(String(r[i] ?? ''))) && rows.every((r) => numeric(r[i])));
  const line = (cells: string[]) =>
    cells.map((c, i) => (right[i] ? c.padStart(width[i]!) : c.padEnd(width[i]!))).join('  ').trimEnd();
  return [title, line(head), width.map((w) => '-'.repeat(w)).join('  '), ...text.map(line)].join('\n');
}

export const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
export const verdict = (met: boolean | undefined) => (met === undefined ? '' : met ? 'met' : 'MISSED');

// ---------------------------------------------------------------- memory

export interface Proc {
  pid: number;
  name: string;
  rssKb: number;
  /** Proportional set size: shared pages (the node binary of npm and of the launcher) counted once overall. */
  pssKb: number;
}

function childrenOf(pid: number): number[] {
  const tasks = `/proc/${pid}/task`;
  // /proc/<pid>/task/<tid>/children needs CONFIG_PROC_CHILDREN; without it, scan every ppid.
  if (existsSync(`${tasks}/${pid}/children`)) {
    const out: number[] = [];
    for (const tid of safe(() => readdirSync(tasks), [])) {
      const text = safe(() => readFileSync(`${tasks}/${tid}/children`, 'utf8'), '');
      for (const c of text.split(/\s+/)) if (c) out.push(Number(c));
    }
    return out;
  }
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      // The command name may hold spaces and parentheses: ppid is the 2nd field after the last ')'.
      const stat = safe(() => readFileSync(`/proc/${d}/stat`, 'utf8'), '');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid;
    })
    .map(Number);
}

/** CPU time a process has used so far (user + system), in ms; 0 once it is gone. */
export function cpuMs(pid: number): number {
  const stat = safe(() => readFileSync(`/proc/${pid}/stat`, 'utf8'), '');
  if (!stat) return 0;
  // utime and stime: fields 14 and 15, the 12th and 13th after the command name's ')'.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / CLOCK_TICKS;
}
const CLOCK_TICKS = 100; // sysconf(_SC_CLK_TCK) on Linux

export function safe<T>(f: () => T, fallback: T): T {
  try {
    return f();
  } catch {
    return fallback; // the process exited between listing and reading
  }
}

/** "npm run dev", "node tsx dev.ts", "workerd serve": the command up to its first long option. */
function label(cmdline: string): string {
  // npm rewrites its title into one string with spaces, so split on both.
  const words = cmdline.split(/[\0 ]/).filter(Boolean);
  const out: string[] = [];
  for (let i = 0; i < words.length && out.length < 4; i++) {
    const w = words[i]!;
    if (w === '--require' || w === '--import') {
      i++; // tsx's loader flags and their file
      continue;
    }
    if (w.startsWith('--')) break;
    out.push(w.replace(/^.*\//, ''));
  }
  return out.join(' ');
}

export function processTree(root: number): Proc[] {
  const out: Proc[] = [];
  const queue = [root];
  while (queue.length) {
    const pid = queue.shift()!;
    const status = safe(() => readFileSync(`/proc/${pid}/status`, 'utf8'), '');
    if (!status) continue;
    out.push({
      pid,
      name: label(safe(() => readFileSync(`/proc/${pid}/cmdline`, 'utf8'), '')) || (/^Name:\s*(.*)$/m.exec(status)?.[1] ?? '?'),
      rssKb: Number(/^VmRSS:\s*(\d+)/m.exec(status)?.[1] ?? 0), // kernel threads and zombies have none
      pssKb: Number(/^Pss:\s*(\d+)/m.exec(safe(() => readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'), ''))?.[1] ?? 0),
    });
    queue.push(...childrenOf(pid));
  }
  return out;
}

// ---------------------------------------------------------------- HTTP helpers

export interface Reply {
  status: number;
  subjectToken: string | null;
  body: unknown;
}

export async function call(url: string, method: string, headers: Record<string, string>, body?: unknown, retry = true): Promise<Reply> {
  let res: Response;
  try {
    res = await send(url, method, headers, body);
  } catch (e) {
    // A kept-alive connection the server closed meanwhile: one fresh attempt.
    if (!retry) throw e;
    res = await send(url, method, headers, body);
  }
  const text = await res.text();
  if (process.env.BENCH_DEBUG) console.log(`${(performance.now() / 1000).toFixed(2)} ${method} ${url} -> ${res.status}`);
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: keep the text for the error message
  }
  return { status: res.status, subjectToken: res.headers.get('X-Subject-Token'), body: parsed };
}

function send(url: string, method: string, headers: Record<string, string>, body?: unknown): Promise<Response> {
  return fetch(url, {
    method,
    headers: { ...(body === undefined ? {} : { 'Content-Type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
}

// ---------------------------------------------------------------- load

export interface Scenario {
  name: string;
  method: 'GET' | 'POST' | 'PUT';
  url: string;
  headers: Record<string, string>;
  /** A JSON body, or raw bytes sent as they are. */
  body?: unknown;
  expect: number;
  /** "unique": every request appends a new suffix to the URL; "cycle:N": suffixes 0..N-1 in turn. */
  paths?: string;
  /** Set when the scenario cannot run: the text of its rows. */
  unavailable?: string;
}

export interface WrkResult {
  requests: number;
  duration_us: number;
  p50_us: number;
  p99_us: number;
  max_us: number;
  status_errors: number;
  connect_errors: number;
  read_errors: number;
  write_errors: number;
  timeouts: number;
}

export interface Run {
  scenario: string;
  concurrency: number;
  result?: { rps: number; p50: number; p99: number; errors: number };
  unavailable?: string;
}

export function wrk(s: Scenario, concurrency: number, seconds: number, dir: string): Promise<WrkResult> {
  const bodyFile = join(dir, 'body.json');
  const headerFile = join(dir, 'headers.txt');
  const raw = s.body instanceof Uint8Array;
  writeFileSync(bodyFile, s.body === undefined ? '' : raw ? (s.body as Uint8Array) : JSON.stringify(s.body));
  const headers = { ...(s.body === undefined || raw ? {} : { 'Content-Type': 'application/json' }), ...s.headers };
  writeFileSync(headerFile, Object.entries(headers).map(([k, v]) => `${k}: ${v}\n`).join(''));
  // One wrk thread: it keeps up with this server easily and leaves the second core to the cloud.
  const args = ['-t1', `-c${concurrency}`, `-d${seconds}s`, '--timeout', '10s', '--latency', '-s', LUA, s.url];
  return new Promise((ok, fail) => {
    execFile(
      'wrk',
      args,
      {
        env: {
          ...process.env,
          WRK_METHOD: s.method,
          WRK_BODY_FILE: s.body === undefined ? '' : bodyFile,
          WRK_HEADER_FILE: headerFile,
          WRK_PATHS: s.paths ?? '',
        },
      },
      (err, stdout, stderr) => {
        const line = /^WRK_RESULT (.*)$/m.exec(stdout)?.[1];
        if (err || !line) return fail(new Error(`wrk ${args.join(' ')} failed: ${err?.message ?? ''}\n${stdout}${stderr}`));
        ok(JSON.parse(line) as WrkResult);
      },
    );
  });
}

