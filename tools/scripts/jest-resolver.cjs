// Jest resolver: ESM-only packages (execa and its dependencies) publish only "import" export
// conditions. Resolve them with "import"; Jest's transform turns them into CommonJS (see
// jest.preset.cjs). Everything else resolves as CommonJS.
const { ESM_ONLY } = require('./esm-only.cjs');

const inside = new RegExp(`/node_modules/(${ESM_ONLY.join('|')})/`);
const named = new RegExp(`^(${ESM_ONLY.join('|')})(/|$)`);

module.exports = (request, options) => {
  // Bare names of ESM-only packages, and subpath imports (#x) inside them; a dual package that
  // an ESM-only one depends on (signal-exit, cross-spawn) still resolves to its CommonJS build.
  if (named.test(request) || (request.startsWith('#') && inside.test(options.basedir + '/'))) {
    return options.defaultResolver(request, { ...options, conditions: ['import', 'node', 'default'] });
  }
  return options.defaultResolver(request, options);
};
