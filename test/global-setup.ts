// One local cloud for the end-to-end suites, started as `npm run dev` starts it, with
// fresh state; suites reach it through inject('cloud').
import { rmSync } from 'node:fs';
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
    rmSync(info.stateDir, { recursive: true, force: true });
  };
}
