module.exports = {
  ...require('../../jest.preset.cjs'),
  displayName: 'security-e2e',
  // Stacks of real processes: one file at a time keeps the 2-core machine's timings honest.
  maxWorkers: 1,
  testTimeout: 60_000,
  // A canary secret, a canary process and a listing of the host's writable places, made before
  // any hostile program runs; zz-host.test.ts (always last) checks them, the teardown removes them.
  globalSetup: '<rootDir>/test/global-setup.ts',
  globalTeardown: '<rootDir>/test/global-teardown.ts',
  testSequencer: '<rootDir>/test/sequencer.cjs',
};
