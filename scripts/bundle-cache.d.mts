import type { BuildOptions } from 'esbuild';

export interface CachedBundle {
  /** The cache file: the bundle after a first comment line. */
  file: string;
  /** The bundle's code. */
  code: string;
}

export function cachedBundle(root: string, name: string, options: BuildOptions): Promise<CachedBundle | undefined>;
export function buildBundle(root: string, name: string, options: BuildOptions): Promise<CachedBundle>;
export function stopBuilds(): Promise<void>;
