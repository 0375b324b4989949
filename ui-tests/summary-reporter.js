// One plain closing line ("ui: N passed, N failed, N skipped") for CI.
class SummaryReporter {
  constructor() {
    this.counts = { passed: 0, failed: 0, skipped: 0 };
  }
  onTestEnd(test, result) {
    // A retried test counts once, by its final outcome.
    if (result.retry < test.retries && result.status !== 'passed' && result.status !== 'skipped') {
      return;
    }
    if (result.status === 'passed') this.counts.passed++;
    else if (result.status === 'skipped') this.counts.skipped++;
    else this.counts.failed++;
  }
  onEnd() {
    const c = this.counts;
    process.stdout.write(`\nui: ${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped\n`);
  }
}
module.exports = SummaryReporter;
