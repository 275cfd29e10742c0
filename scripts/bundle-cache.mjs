// esbuild bundles of the launcher and the Workers, kept between starts: a bundle is built
// again only when a file it was built from (by content), its build options, esbuild,
// tsconfig.json or package-lock.json changed. Plain JavaScript: `scripts/dev.mjs` uses it
// before any TypeScript can run.
//
// One file per bundle, `node_modules/.cache/flarestack/bundle-NAME-KEY.mjs`, whose first
// line is a comment listing its inputs and their hashes. It is written whole and renamed
// into place, so clouds starting at once never read half a file.
import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';

const HEADER = '// flarestack-bundle-inputs ';
/** Changes whenever what this file makes of esbuild's output changes. */
const FORMAT = 1;
const require = createRequire(import.meta.url);
/** @type {import('esbuild') | undefined} */
let esbuild;
/** Content hashes of the files read during this start, shared by every bundle. */
const hashes = new Map();

/** @param {string} file */
function hashFile(file) {
  let hash = hashes.get(file);
  if (!hash) {
    hash = readFile(file).then(
      (data) => createHash('sha1').update(data).digest('base64url'),
      () => 'missing',
    );
    hashes.set(file, hash);
  }
  return hash;
}

/**
 * @param {string} root
 * @param {string} name
 * @param {import('esbuild').BuildOptions} options
 */
async function cacheFile(root, name, options) {
  const dir = join(root, 'node_modules', '.cache', 'flarestack');
  const parts = await Promise.all(
    ['package-lock.json', 'tsconfig.json', 'node_modules/esbuild/package.json'].map((f) => hashFile(join(root, f))),
  );
  const key = createHash('sha256').update(JSON.stringify([FORMAT, options, parts])).digest('hex').slice(0, 16);
  return join(dir, `bundle-${name}-${key}.mjs`);
}

/**
 * The cached bundle, or undefined when there is none or any of its inputs changed.
 * @param {string} root the repository, esbuild's working folder
 * @param {string} name names the bundle in the cache
 * @param {import('esbuild').BuildOptions} options one entry point, without outfile
 * @returns {Promise<{ file: string; code: string } | undefined>}
 */
export async function cachedBundle(root, name, options) {
  const file = await cacheFile(root, name, options);
  let text;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  const eol = text.indexOf('\n');
  if (!text.startsWith(HEADER) || eol < 0) return undefined;
  /** @type {Record<string, string>} */
  const inputs = JSON.parse(text.slice(HEADER.length, eol));
  const current = await Promise.all(Object.keys(inputs).map((f) => hashFile(join(root, f))));
  if (Object.values(inputs).some((h, i) => h !== current[i])) return undefined;
  return { file, code: text.slice(eol + 1) };
}

/**
 * Bundles with esbuild and stores the result. esbuild is loaded and its service started
 * before the first await, so the build runs in esbuild's process while this thread
 * goes on.
 * @param {string} root
 * @param {string} name
 * @param {import('esbuild').BuildOptions} options
 * @returns {Promise<{ file: string; code: string }>}
 */
export async function buildBundle(root, name, options) {
  esbuild ??= /** @type {import('esbuild')} */ (require('esbuild'));
  const building = esbuild.build({ ...options, absWorkingDir: root, write: false, metafile: true, outfile: join(root, `${name}.mjs`) });
  const file = await cacheFile(root, name, options);
  const result = await building;
  // esbuild escapes every non-ASCII character of strings, templates, regular expressions
  // and names; only comments keep theirs (a dash, an arrow). Made ASCII too, the bundle
  // loads as a one-byte string, half the memory, here and in workerd.
  const code = result.outputFiles[0].text.replace(/[^\0-\x7f]/g, (c) => (c === '\u2028' || c === '\u2029' ? '\n' : '?'));
  // A file hashed before the build and changed since shows as changed at the next start.
  const paths = Object.keys(result.metafile.inputs).filter((p) => !p.includes(':'));
  const sums = await Promise.all(paths.map((p) => hashFile(join(root, p))));
  const header = HEADER + JSON.stringify(Object.fromEntries(paths.map((p, i) => [p, sums[i]]))) + '\n';
  await mkdir(join(root, 'node_modules', '.cache', 'flarestack'), { recursive: true });
  const tmp = `${file}.${process.pid}`;
  await writeFile(tmp, header + code);
  await rename(tmp, file);
  // Bundles of this name made with other options or other dependencies are stale.
  const dir = dirname(file);
  for (const other of await readdir(dir)) {
    if (other.startsWith(`bundle-${name}-`) && other.endsWith('.mjs') && other !== basename(file)) await rm(join(dir, other), { force: true });
  }
  return { file, code };
}

/** Stops esbuild's service process, if a build started it. */
export async function stopBuilds() {
  await esbuild?.stop();
}
