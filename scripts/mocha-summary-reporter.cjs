// Mocha's spec reporter, followed by the one line CI reads: "N passed, N failed" (", N skipped" when any).
// Tests must leave nothing running, so the process exits by itself once they are done. If it has not
// within EXIT_GRACE_MS, something was left running: that is reported as one more failure (with the
// summary line printed again, last) and the process is ended, so that CI neither hangs nor passes.
'use strict';
const Mocha = require('mocha');

const EXIT_GRACE_MS = 30_000;
/** The static checks scripts/test.mjs ran before mocha, counted in the same line (0 for a subset). */
const CHECKS_PASSED = Number(process.env.ROOMMESH_CHECKS_PASSED ?? 0);
const CHECKS_FAILED = Number(process.env.ROOMMESH_CHECKS_FAILED ?? 0);

class SummaryReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    runner.once(Mocha.Runner.constants.EVENT_RUN_END, () => {
      const passes = runner.stats.passes + CHECKS_PASSED;
      const failures = runner.stats.failures + CHECKS_FAILED;
      const { pending } = runner.stats;
      const skipped = pending > 0 ? `, ${pending} skipped` : '';
      process.stdout.write(`\n${passes} passed, ${failures} failed${skipped}\n`);
      setTimeout(() => {
        process.stdout.write(
          `\nthe test process did not exit within ${EXIT_GRACE_MS / 1000} s of its last test: something was left running\n` +
            `${passes} passed, ${failures + 1} failed${skipped}\n`,
        );
        process.exit(1);
      }, EXIT_GRACE_MS).unref();
    });
  }
}

module.exports = SummaryReporter;
