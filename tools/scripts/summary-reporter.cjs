// Jest reporter: writes one JSON file of totals per project into tmp/test-results, so that
// `npm test` can print one "N passed, N failed" line over all projects. It also keeps a run from
// hanging: a project whose Jest is still alive CORRAL_TEST_EXIT_GRACE_S after its tests ended
// (an open handle: a socket, a timer, a child process) is ended, named, and counted as a
// failure; a project still running after CORRAL_TEST_PROJECT_TIMEOUT_S is ended the same way.
const fs = require('node:fs');
const path = require('node:path');

const resultsDir = process.env.CORRAL_TEST_RESULTS_DIR || path.join(__dirname, '..', '..', 'tmp', 'test-results');
const EXIT_GRACE_S = Number(process.env.CORRAL_TEST_EXIT_GRACE_S || 10);
const PROJECT_TIMEOUT_S = Number(process.env.CORRAL_TEST_PROJECT_TIMEOUT_S || 900);

class SummaryReporter {
  constructor(globalConfig) {
    // The project's package name, as Nx names the project.
    let name = path.basename(globalConfig.rootDir);
    try {
      name = JSON.parse(fs.readFileSync(path.join(globalConfig.rootDir, 'package.json'), 'utf8')).name || name;
    } catch {
      // no package.json: the folder's name
    }
    this.project = name;
    this.file = path.join(resultsDir, `${name.replace(/[^\w.-]/g, '_')}.json`);
  }

  write(summary) {
    fs.mkdirSync(resultsDir, { recursive: true });
    fs.writeFileSync(this.file, JSON.stringify({ project: this.project, ...summary }) + '\n');
  }

  onRunStart() {
    // Unreferenced: it never keeps Jest alive, it only ends a Jest that is alive too long.
    setTimeout(() => {
      console.error(`corral test: ${this.project} still running after ${PROJECT_TIMEOUT_S} s (CORRAL_TEST_PROJECT_TIMEOUT_S); ending it`);
      this.write({ passed: 0, failed: 0, skipped: 0, brokenSuites: 1, success: false, timedOut: true });
      process.exit(1);
    }, PROJECT_TIMEOUT_S * 1000).unref();
  }

  onRunComplete(_contexts, results) {
    const summary = {
      passed: results.numPassedTests,
      failed: results.numFailedTests,
      skipped: results.numPendingTests + results.numTodoTests,
      // A suite that fails to load has no failed tests but must still count as a failure.
      brokenSuites: results.numRuntimeErrorTestSuites,
      success: results.success,
    };
    this.write(summary);
    setTimeout(() => {
      console.error(
        `corral test: ${this.project} did not exit ${EXIT_GRACE_S} s after its tests ended: something it opened (a socket, a timer, a process) is still open. Ending it; counted as a failure.`,
      );
      this.write({ ...summary, brokenSuites: summary.brokenSuites + 1, success: false, openHandles: true });
      process.exit(1);
    }, EXIT_GRACE_S * 1000).unref();
  }
}

module.exports = SummaryReporter;
