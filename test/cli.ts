// The real clients as test drivers: Debian's `openstack` CLI, and plain HTTP.
import { execFile } from 'node:child_process';
import { inject } from 'vitest';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `openstack ARGS` against the test cloud with its clouds.yaml. A missing CLI is an
 * error (ENOENT), never a skip.
 */
export async function openstack(args: string[], opts: { cloud?: string; env?: Record<string, string>; input?: string } = {}): Promise<CliResult> {
  const r = await runOpenstack(args, opts);
  // A kept-alive connection closed by the server just as the CLI reused it: a read is
  // asked once more (as fetchRetrying does over HTTP); a write is not, it may have happened.
  const dropped = /Connection aborted|RemoteDisconnected|Connection reset by peer/.test(r.stderr);
  const read = args.slice(0, 3).some((a) => a === 'list' || a === 'show');
  return dropped && read && !opts.input ? runOpenstack(args, opts) : r;
}

function runOpenstack(args: string[], opts: { cloud?: string; env?: Record<string, string>; input?: string }): Promise<CliResult> {
  const info = inject('cloud');
  const cloudArgs = opts.cloud === '' ? [] : ['--os-cloud', opts.cloud ?? 'flarestack-admin'];
  return new Promise((ok, fail) => {
    const child = execFile(
      'openstack',
      [...cloudArgs, ...args],
      { env: { ...process.env, OS_CLIENT_CONFIG_FILE: info.cloudsYaml, ...opts.env }, timeout: 90_000, maxBuffer: 16 << 20 },
      (err, stdout, stderr) => {
        if (err && typeof err.code !== 'number') return fail(err);
        ok({ code: typeof err?.code === 'number' ? err.code : 0, stdout, stderr });
      },
    );
    if (opts.input !== undefined) child.stdin!.end(opts.input);
  });
}

/** Runs a command that must succeed and returns its `-f json` output parsed. */
export async function openstackJson<T = Record<string, unknown>>(args: string[], opts: Parameters<typeof openstack>[1] = {}): Promise<T> {
  const r = await openstack([...args, '-f', 'json'], opts);
  if (r.code !== 0) throw new Error(`openstack ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/** Runs a command that must succeed. */
export async function openstackOk(args: string[], opts: Parameters<typeof openstack>[1] = {}): Promise<string> {
  const r = await openstack(args, opts);
  if (r.code !== 0) throw new Error(`openstack ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

/**
 * fetch, tried once more when the server had closed an idle keep-alive connection just
 * as the client reused it (ECONNRESET before any response).
 */
export async function fetchRetrying(url: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch (err) {
    const code = (err as { cause?: { code?: string } }).cause?.code;
    if (code !== 'ECONNRESET' && code !== 'UND_ERR_SOCKET') throw err;
    return fetch(url, init);
  }
}

/** A password token for a user of the test cloud, over HTTP. */
export async function passwordToken(user: string, password: string, project?: string): Promise<{ token: string; body: Record<string, any> }> {
  const { authUrl } = inject('cloud');
  const res = await fetchRetrying(`${authUrl}/auth/tokens`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      auth: {
        identity: { methods: ['password'], password: { user: { name: user, domain: { id: 'default' }, password } } },
        ...(project ? { scope: { project: { name: project, domain: { id: 'default' } } } } : {}),
      },
    }),
  });
  if (res.status !== 201) throw new Error(`token for ${user}: ${res.status} ${await res.text()}`);
  return { token: res.headers.get('X-Subject-Token')!, body: (await res.json()) as Record<string, any> };
}

/** The demo user's project token, with the ids a test compares against. */
export async function demoLogin(): Promise<{ token: string; projectId: string; userId: string }> {
  const d = await passwordToken('demo', inject('cloud').passwords.demo, 'demo');
  return { token: d.token, projectId: d.body.token.project.id, userId: d.body.token.user.id };
}

export async function adminToken(): Promise<string> {
  return (await passwordToken('admin', inject('cloud').passwords.admin, 'admin')).token;
}

/** An HTTP call to the test cloud; path is relative to its root (e.g. /identity/v3/users). */
export async function api(method: string, path: string, opts: { token?: string; body?: unknown; raw?: string; headers?: Record<string, string> } = {}) {
  const { url } = inject('cloud');
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers['X-Auth-Token'] = opts.token;
  let body: string | undefined = opts.raw;
  if (opts.body !== undefined) body = JSON.stringify(opts.body);
  if (body !== undefined) headers['Content-Type'] ??= 'application/json';
  const res = await fetchRetrying(`${url}${path}`, { method, headers, body });
  const text = await res.text();
  let json: any = undefined;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}
