// The `swift` CLI (python3-swiftclient) as a test driver, and the storage URL and tokens
// the HTTP tests use. The CLI reads OS_* variables like the openstack CLI's clouds.
import { execFile } from 'node:child_process';
import { expect, inject } from 'vitest';
import { fetchRetrying, passwordToken, type CliResult } from './cli';

export type SwiftUser = 'admin' | 'demo';

/** Who runs the CLI: a Keystone v3 password login. */
export interface SwiftLogin {
  name: string;
  password: string;
  project: string;
}

/** Runs `swift ARGS` with a given login. A missing CLI is an error, never a skip. */
export function swiftAs(args: string[], login: SwiftLogin, cwd?: string, extraEnv: Record<string, string> = {}): Promise<CliResult> {
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    OS_AUTH_URL: inject('cloud').authUrl,
    OS_USERNAME: login.name,
    OS_PASSWORD: login.password,
    OS_PROJECT_NAME: login.project,
    OS_USER_DOMAIN_NAME: 'Default',
    OS_PROJECT_DOMAIN_NAME: 'Default',
    OS_IDENTITY_API_VERSION: '3',
    ...extraEnv,
  };
  return new Promise((ok, fail) => {
    execFile('swift', args, { env, cwd, timeout: 120_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') return fail(err);
      ok({ code: typeof err?.code === 'number' ? err.code : 0, stdout, stderr });
    });
  });
}

/** Runs `swift ARGS` as a user of the test cloud (admin by default). */
export function swift(args: string[], opts: { user?: SwiftUser; cwd?: string; env?: Record<string, string> } = {}): Promise<CliResult> {
  const user = opts.user ?? 'admin';
  return swiftAs(args, { name: user, password: inject('cloud').passwords[user], project: user }, opts.cwd, opts.env);
}

/** Runs a swift command that must succeed; returns its standard output. */
export async function swiftOk(args: string[], opts: Parameters<typeof swift>[1] = {}): Promise<string> {
  const r = await swift(args, opts);
  if (r.code !== 0) throw new Error(`swift ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

/** A project-scoped token and the user's object-store URL (…/object-storage/v1/AUTH_<project>). */
export async function storageAccess(user: SwiftUser = 'admin'): Promise<{ token: string; storageUrl: string; account: string }> {
  const cloud = inject('cloud');
  const { token, body } = await passwordToken(user, cloud.passwords[user], user);
  const account = `AUTH_${body.token.project.id as string}`;
  return { token, account, storageUrl: `${cloud.url}/object-storage/v1/${account}` };
}

/** A container name no other test uses. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

/** A new container of the admin account, a caller for paths under it, and helpers for static large objects. */
export async function sloContainer(prefix: string) {
  const { token, storageUrl } = await storageAccess();
  const c = uniqueName(prefix);
  const call = (method: string, path: string, headers: Record<string, string> = {}, body?: string | Uint8Array) =>
    fetchRetrying(`${storageUrl}/${c}${path}`, { method, headers: { 'X-Auth-Token': token, ...headers }, body });
  expect((await call('PUT', '')).status).toBe(201);
  const putSegment = async (name: string, data: Uint8Array) => expect((await call('PUT', `/${name}`, {}, data)).status).toBe(201);
  // Binary content: the local runtime, like Cloudflare's edge, gzips text/* for clients that accept it.
  const putManifest = (name: string, manifest: unknown, headers: Record<string, string> = {}, query = '') =>
    call('PUT', `/${name}?multipart-manifest=put${query}`, { 'Content-Type': 'application/octet-stream', ...headers }, JSON.stringify(manifest));
  const bytes = async (res: Response) => new Uint8Array(await res.arrayBuffer());
  return { c, call, putSegment, putManifest, bytes };
}
