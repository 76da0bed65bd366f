module.exports = {
  ...require('../../jest.preset.cjs'),
  displayName: 'deploy-e2e',
  maxWorkers: 1,
  testTimeout: 60_000,
};
