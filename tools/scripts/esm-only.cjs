// ESM-only packages that Jest (CommonJS, on Node 20) must resolve with the "import" condition
// and transform: execa 9, kubernetes-models (apps/deploy-e2e), piston-client (the compat tests'
// client) and whatever ES-module packages they pull in, found by walking their dependency trees,
// so that an upgrade needs no edit here.
const fs = require('node:fs');
const path = require('node:path');

const ROOTS = ['execa', 'kubernetes-models', 'piston-client'];

function packageDir(name, fromDir) {
  for (let dir = fromDir; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name);
    if (fs.existsSync(path.join(candidate, 'package.json'))) return candidate;
    if (dir === path.dirname(dir)) return null;
  }
}

function collect() {
  const found = new Set();
  const seen = new Set();
  const queue = ROOTS.map((name) => [name, path.join(__dirname, '..', '..')]);
  while (queue.length > 0) {
    const [name, fromDir] = queue.shift();
    const dir = packageDir(name, fromDir);
    if (!dir || seen.has(dir)) continue;
    seen.add(dir);
    const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
    if (pkg.type === 'module') found.add(name);
    for (const dep of Object.keys(pkg.dependencies || {})) queue.push([dep, dir]);
  }
  return [...found].map((name) => name.replace(/[.]/g, '\\.'));
}

exports.ESM_ONLY = collect();
