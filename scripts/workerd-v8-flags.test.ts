// The V8 flags reach workerd: --expose-gc puts gc() in a Worker's global scope, which
// no Worker has otherwise.
import { Miniflare, Runtime, serializeConfig } from 'miniflare';
import { afterEach, describe, expect, it } from 'vitest';
import { useWorkerdV8Flags, withV8Flags } from './workerd-v8-flags';

const script = `export default { fetch: () => new Response(typeof gc) };`;

async function typeofGc(): Promise<string> {
  const mf = new Miniflare({ modules: true, script, compatibilityDate: '2025-01-01' });
  try {
    return await (await mf.dispatchFetch('http://localhost/')).text();
  } finally {
    await mf.dispose();
  }
}

describe('workerd V8 flags', () => {
  afterEach(() => useWorkerdV8Flags(Runtime, []));

  it('are applied by workerd', { timeout: 60_000 }, async () => {
    expect(await typeofGc()).toBe('undefined');
    useWorkerdV8Flags(Runtime, ['--expose-gc']);
    expect(await typeofGc()).toBe('function');
  });

  it('add a segment and leave the others as they were', () => {
    const config = serializeConfig({ services: [{ name: 'a', worker: { modules: [{ name: 'm.js', esModule: script }], compatibilityDate: '2025-01-01' } }] });
    const segments = config.readUInt32LE(0) + 1;
    const out = withV8Flags(config, ['--expose-gc', '--max-semi-space-size=1']);
    expect(out.readUInt32LE(0) + 1).toBe(segments + 1);
    const table = (n: number) => (4 * (1 + n) + 7) & ~7;
    expect(out.subarray(table(segments + 1), table(segments + 1) + 8)).toEqual(config.subarray(table(segments), table(segments) + 8)); // the root pointer
    expect(out.includes(Buffer.from('--max-semi-space-size=1\0'))).toBe(true);
    expect(() => withV8Flags(out, ['--expose-gc'])).toThrow(/already set/);
  });
});
