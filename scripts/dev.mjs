// `npm run dev` entry: runs the TypeScript launcher (scripts/dev.ts) in this same Node
// process, bundled by esbuild, so the local cloud costs one Node process and no transpiler
// at run time. The bundle is kept between starts (scripts/bundle-cache.mjs): esbuild runs
// only when the launcher's code changed.
// package.json starts it tuned for size: the launcher is idle once the cloud is up, and
// one malloc arena (MALLOC_ARENA_MAX=1) keeps V8's helper threads from holding memory.
// workerd is spawned without that setting: it serves the requests.
delete process.env.MALLOC_ARENA_MAX;
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildBundle, cachedBundle, stopBuilds } from './bundle-cache.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
/** @type {import('esbuild').BuildOptions} */
const options = {
  entryPoints: ['scripts/dev.ts'],
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // Dependencies are bundled: one file loads faster than a tree of packages, and the
  // fleet's code (ws, zod) is evaluated only when the fleet starts. Miniflare and esbuild
  // are loaded by require when needed.
  external: ['miniflare', 'esbuild'],
  // Bundled CommonJS (ws) requires Node's built-in modules.
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  logLevel: 'error',
  // The launcher finds the repository from its own location.
  define: { 'import.meta.url': JSON.stringify(pathToFileURL(join(root, 'scripts', 'cloud.ts')).href) },
};
let launcher = await cachedBundle(root, 'launcher', options);
if (!launcher) {
  launcher = await buildBundle(root, 'launcher', options);
  await stopBuilds();
}
await import(pathToFileURL(launcher.file).href);
