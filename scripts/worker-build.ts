// How a Worker is bundled for workerd, the same for the local cloud and for test harnesses
// that run a Worker of their own.
import type { BuildOptions } from 'esbuild';

export function workerBuild(entry: string): BuildOptions {
  return {
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    conditions: ['workerd', 'worker', 'browser'],
    mainFields: ['module', 'main'],
    external: ['cloudflare:*', 'node:*'],
    logLevel: 'error',
  };
}
