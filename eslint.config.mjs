import { builtinModules } from 'node:module';
import nx from '@nx/eslint-plugin';

const noRedis = { name: 'ioredis', message: 'Only libs/registry talks to Redis.' };
const noNode = '@corral/client runs in browsers too: no Node.js modules (its tsconfig has no Node.js types either).';
const noExeca = { name: 'execa', message: 'Processes are spawned by libs/sandbox (sandboxes) and netprov (ip) only.' };
const noTestHooks = { name: '@corral/registry/testing', message: 'The registry test hooks fault its state on purpose: tests only.' };
/** Test files, where the registry test hooks may be used. */
const tests = ['**/*.spec.ts', '**/*.test.ts', '**/test/**'];

export default [
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  ...nx.configs['flat/javascript'],
  {
    ignores: ['**/dist', '**/out-tsc', '**/node_modules', 'libs/sandbox/runtime', 'tmp'],
  },
  {
    files: ['**/src/**/*.ts', '**/test/**/*.ts'],
    rules: {
      // The arrows stay one-way: apps -> libs -> contracts; contracts depend on nothing.
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: true,
          allow: [],
          depConstraints: [
            { sourceTag: 'type:contracts', onlyDependOnLibsWithTags: [] },
            { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib', 'type:contracts', 'type:tooling'] },
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:lib', 'type:contracts', 'type:tooling'] },
            { sourceTag: 'type:tooling', onlyDependOnLibsWithTags: ['type:tooling', 'type:contracts'] },
            { sourceTag: 'type:e2e', onlyDependOnLibsWithTags: ['type:tooling', 'type:contracts', 'type:lib'] },
            // The benchmark measures the libs themselves; nothing depends on it.
            { sourceTag: 'type:bench', onlyDependOnLibsWithTags: ['type:tooling', 'type:contracts', 'type:lib'] },
          ],
        },
      ],
    },
  },
  // Only the registry talks to Redis; only the sandbox lib and netprov spawn processes with execa.
  // Outside tests, nothing reaches the registry's test hooks either.
  {
    files: ['**/*.ts'],
    ignores: ['libs/registry/**', 'libs/sandbox/**', 'apps/netprov/**'],
    rules: { 'no-restricted-imports': ['error', { paths: [noRedis, noExeca, noTestHooks] }] },
  },
  {
    files: tests,
    ignores: ['libs/registry/**', 'libs/sandbox/**', 'apps/netprov/**'],
    rules: { 'no-restricted-imports': ['error', { paths: [noRedis, noExeca] }] },
  },
  {
    files: ['libs/sandbox/**/*.ts', 'apps/netprov/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: [noRedis, noTestHooks] }] },
  },
  {
    files: ['libs/sandbox/**/*.spec.ts', 'apps/netprov/**/*.spec.ts', 'apps/netprov/test/**'],
    rules: { 'no-restricted-imports': ['error', { paths: [noRedis] }] },
  },
  {
    files: ['libs/registry/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: [noExeca] }] },
  },
  // The client runs in browsers too: fetch and the web platform only, no Node.js module.
  {
    files: ['libs/client/src/**/*.ts'],
    ignores: ['**/*.spec.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [noRedis, noExeca, ...builtinModules.map((name) => ({ name, message: noNode }))],
          patterns: [{ group: ['node:*'], message: noNode }],
        },
      ],
    },
  },
  {
    files: ['**/*.spec.ts', '**/*.test.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
];
