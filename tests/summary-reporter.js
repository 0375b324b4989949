// Prints one plain closing line ("jest: N passed, N failed, N skipped") that
// CI tooling reads regardless of the test runner.
class SummaryReporter {
  onRunComplete(_contexts, results) {
    const skipped = results.numPendingTests + results.numTodoTests;
    const failed = results.numFailedTests + results.numRuntimeErrorTestSuites;
    process.stdout.write(
      `\njest: ${results.numPassedTests} passed, ${failed} failed, ${skipped} skipped\n`
    );
  }
}
module.exports = SummaryReporter;
