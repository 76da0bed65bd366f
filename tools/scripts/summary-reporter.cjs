// Jest reporter: writes one JSON file of totals per project into tmp/test-results, so that
// `npm test` can print one "N passed, N failed" line over all projects.
const fs = require('node:fs');
const path = require('node:path');

const resultsDir = path.join(__dirname, '..', '..', 'tmp', 'test-results');

class SummaryReporter {
  constructor(globalConfig) {
    this.project = path.basename(globalConfig.rootDir);
  }

  onRunComplete(_contexts, results) {
    fs.mkdirSync(resultsDir, { recursive: true });
    const summary = {
      project: this.project,
      passed: results.numPassedTests,
      failed: results.numFailedTests,
      skipped: results.numPendingTests + results.numTodoTests,
      // A suite that fails to load has no failed tests but must still count as a failure.
      brokenSuites: results.numRuntimeErrorTestSuites,
      success: results.success,
    };
    fs.writeFileSync(path.join(resultsDir, `${this.project}.json`), JSON.stringify(summary) + '\n');
  }
}

module.exports = SummaryReporter;
