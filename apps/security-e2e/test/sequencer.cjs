// Runs the test files in name order, with zz-host.test.ts (the host-wide checks made after every
// hostile program has run) always last. Jest's default order (slowest first) would not.
const Sequencer = require('@jest/test-sequencer').default;

const LAST = /zz-host\.test\.ts$/;

class SecuritySequencer extends Sequencer {
  sort(tests) {
    return [...tests].sort((a, b) => Number(LAST.test(a.path)) - Number(LAST.test(b.path)) || a.path.localeCompare(b.path));
  }
}

module.exports = SecuritySequencer;
