// The command line as a host's supervisor sees it: exit statuses and what it prints.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { TestConductor } from './test-conductor';

const root = fileURLToPath(new URL('..', import.meta.url));

function run(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'connector/main.ts', ...args], {
    cwd: root,
    env: { ...process.env, FLARESTACK_HOST_CREDENTIAL: '', ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = once(child, 'exit').then(([code]) => ({ code: code as number | null, stdout, stderr }));
  return { child, exited };
}

let conductor: TestConductor | undefined;
afterEach(async () => {
  await conductor?.close();
  conductor = undefined;
});

// Each case starts Node with tsx (about half a second here, more on a busy machine).
describe('flarestack-connector (CLI)', { timeout: 30_000 }, () => {
  it('exits 3 with a clear message, without retrying, when the credential is refused', async () => {
    conductor = await TestConductor.start({ refuseWith: () => 401 });
    const { exited } = run(['--url', conductor.url], { FLARESTACK_HOST_CREDENTIAL: 'cred-1.wrong' });
    const { code, stderr } = await exited;
    expect(code).toBe(3);
    expect(stderr).toContain('the control plane refused the host credential (HTTP 401)');
    expect(stderr).toContain('Not retrying.');
    expect(conductor.attempts).toBe(1);
  });

  it('connects, and on SIGTERM closes cleanly and exits 0', async () => {
    conductor = await TestConductor.start();
    const { child, exited } = run(['--url', conductor.url, '--credential', 'cred-1.s3cret', '--hostname', 'cli-host', '--vcpus', '2']);
    const connection = await conductor.connection(1, 10_000);
    const hello = await connection.waitFor((m) => m.type === 'hello', 10_000);
    expect(hello).toMatchObject({ inventory: { hypervisorHostname: 'cli-host', vcpus: 2 } });
    child.kill('SIGTERM');
    const { code, stdout } = await exited;
    expect(code).toBe(0);
    expect(stdout).toContain('connected to ws://127.0.0.1:');
    expect(await connection.closed).toEqual({ code: 1000 });
  });

  it('exits 2 for the qemu driver, which is not built yet, and for bad arguments', async () => {
    const qemu = await run(['--url', 'http://127.0.0.1:9', '--credential', 'a.b', '--driver', 'qemu']).exited;
    expect(qemu.code).toBe(2);
    expect(qemu.stderr).toContain('the qemu driver is not built yet');
    const missing = await run(['--url', 'http://127.0.0.1:9']).exited;
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('a host credential is required');
  });
});
