import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    reporters: ['default', './test/summary-reporter.ts'],
    // The end-to-end suites mostly wait on the openstack CLI, a Python process per call.
    maxWorkers: 3,
    projects: [
      {
        test: {
          name: 'unit',
          include: ['lib/**/*.test.ts', 'workers/**/*.test.ts', 'durable-objects/**/*.test.ts', 'scripts/**/*.test.ts', 'connector/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['./test/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
