// Shared Jest settings for every project. Sources are TypeScript (CommonJS output), transformed
// by SWC; workspace libs resolve to their src through the "@corral/source" export condition.
const path = require('node:path');

// ESM-only packages (execa and its dependencies) are resolved with the "import" condition and
// transformed to CommonJS for Jest, which cannot require() ES modules on Node 20. Node itself
// loads them natively at run time.
const { ESM_ONLY } = require('./tools/scripts/esm-only.cjs');

module.exports = {
  testEnvironment: 'node',
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/**/*.test.ts'],
  moduleFileExtensions: ['ts', 'js', 'cjs', 'json'],
  transform: {
    '^.+\\.(ts|js|mjs)$': [
      '@swc/jest',
      {
        jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
        module: { type: 'commonjs' },
        sourceMaps: 'inline',
      },
    ],
  },
  transformIgnorePatterns: [`/node_modules/(?!(${ESM_ONLY.join('|')})/)`],
  resolver: path.join(__dirname, 'tools/scripts/jest-resolver.cjs'),
  // globalsCleanup off: its soft-delete proxies recurse forever on signal-exit's global emitter (used by execa).
  testEnvironmentOptions: { customExportConditions: ['@corral/source', 'node', 'require', 'default'], globalsCleanup: 'off' },
  reporters: ['default', path.join(__dirname, 'tools/scripts/summary-reporter.cjs')],
  // Integration tests start real processes; give them room, but never hang CI.
  testTimeout: 30_000,
};
