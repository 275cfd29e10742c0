// The wrangler.toml files that the local cloud runs are the ones `wrangler deploy`
// reads: each must bundle and declare its bindings for a real deploy.
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ROOT } from './cloud';

const run = promisify(execFile);

async function dryRun(config: string): Promise<string> {
  const outdir = mkdtempSync(join(tmpdir(), 'flarestack-deploy-'));
  const { stdout, stderr } = await run('npx', ['wrangler', 'deploy', '--dry-run', '--outdir', outdir, '-c', config], {
    cwd: ROOT,
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false' },
  });
  return stdout + stderr;
}

describe('wrangler deploy --dry-run', () => {
  it('bundles the keystone Worker with its D1 database and revocation list', { timeout: 60_000 }, async () => {
    const out = await dryRun('workers/keystone/wrangler.toml');
    expect(out).toMatch(/env\.DB \(keystone\)\s+D1 Database/);
    expect(out).toMatch(/env\.REVOCATIONS \(RevocationList\)\s+Durable Object/);
  });

  it('bundles the gateway with its service bindings', { timeout: 60_000 }, async () => {
    const out = await dryRun('wrangler.toml');
    expect(out).toMatch(/env\.KEYSTONE \(flarestack-keystone\)\s+Worker/);
  });
});
