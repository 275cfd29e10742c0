// Counts every test of the run and leaves the totals for scripts/test.sh, which prints
// the one summary line CI reads. A suite that fails outside its tests counts as one failure.
import { writeFileSync } from 'node:fs';
import type { Reporter, TestModule } from 'vitest/node';

export default class SummaryReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>, errors: ReadonlyArray<unknown>): void {
    let passed = 0;
    let failed = errors.length;
    for (const mod of modules) {
      let failedHere = 0;
      for (const test of mod.children.allTests()) {
        if (test.result().state === 'passed') passed++;
        else failedHere++; // skipped or pending tests are not allowed to hide a gap
      }
      // A suite can fail outside its tests (a hook, an import): that is one failure more.
      if (failedHere === 0 && mod.state() === 'failed') failedHere = 1;
      failed += failedHere;
    }
    const out = process.env.FLARESTACK_SUMMARY_FILE;
    if (out) writeFileSync(out, JSON.stringify({ passed, failed }));
    else console.log(`${passed} passed, ${failed} failed`);
  }
}
