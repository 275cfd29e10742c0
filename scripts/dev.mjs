// `npm run dev` entry: bundles the TypeScript launcher with esbuild and runs it in this
// same Node process, so the local cloud costs one Node process and no transpiler at run time.
// package.json starts it tuned for size: the launcher is idle once the cloud is up, and
// one malloc arena (MALLOC_ARENA_MAX=1) keeps V8's helper threads from holding memory.
// workerd is spawned without that setting: it serves the requests.
delete process.env.MALLOC_ARENA_MAX;
import { build, stop } from 'esbuild';
import { mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

// Miniflare takes the longest to load: start now, while esbuild bundles the launcher.
const miniflare = import('miniflare');
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(root, 'node_modules', '.cache', 'flarestack');
mkdirSync(outdir, { recursive: true });
// Each process writes its own file: two clouds may start at once.
const outfile = join(outdir, `dev-${process.pid}.mjs`);
await build({
  entryPoints: [join(root, 'scripts', 'dev.ts')],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  logLevel: 'error',
  // The launcher finds the repository from its own location.
  define: { 'import.meta.url': JSON.stringify(pathToFileURL(join(root, 'scripts', 'cloud.ts')).href) },
});
await stop();
try {
  await miniflare;
  await import(pathToFileURL(outfile).href);
} finally {
  rmSync(outfile, { force: true });
}
