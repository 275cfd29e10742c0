// One local cloud for the end-to-end suites, started as `npm run dev` starts it, with
// fresh state; suites reach it through inject('cloud').
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startLocalCloud, type LocalCloud } from './local-cloud';

export type CloudInfo = Omit<LocalCloud, 'stop'>;

declare module 'vitest' {
  export interface ProvidedContext {
    cloud: CloudInfo;
  }
}

/** Compute hosts count as down after 6 s without a heartbeat, so host-failure suites finish quickly. */
export const TEST_CLOUD_ENV = { FLARESTACK_SERVICE_DOWN_TIME: '6', FLARESTACK_HEARTBEAT_INTERVAL_MS: '1000' };

export default async function setup(project: TestProject) {
  const cloud = await startLocalCloud({ env: TEST_CLOUD_ENV });
  const { stop, ...info } = cloud;
  project.provide('cloud', info);
  return async () => {
    await stop();
    reportUnexpectedErrors(join(info.stateDir, 'cloud.log'));
    rmSync(info.stateDir, { recursive: true, force: true });
  };
}

/**
 * Prints what the cloud logged of the errors it answered with a 500 (lib/errors.ts logs
 * each as "METHOD /path:" and its stack), since the log goes with the state folder: a
 * flaky failure in CI leaves its evidence in the output.
 */
function reportUnexpectedErrors(logPath: string): void {
  let log: string;
  try {
    log = readFileSync(logPath, 'utf8');
  } catch {
    return;
  }
  const lines = log.split('\n');
  const starts = lines.flatMap((line, i) => (/^(GET|HEAD|POST|PUT|PATCH|DELETE|COPY|OPTIONS) \/\S*:/.test(line) ? [i] : []));
  if (starts.length === 0) return;
  const shown = starts.slice(-5).flatMap((i) => lines.slice(i, i + 8));
  console.error(`The local cloud answered ${starts.length} request(s) with an unexpected error; the last ones:\n${shown.join('\n')}`);
}
