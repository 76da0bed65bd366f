import { execFileSync } from 'node:child_process';
import { launcherArgs, sandboxPaths } from './launcher';
import { BOOTSTRAP_PATH, resolveSandboxNode, resolveSpawnHelper } from './paths';

/**
 * The runtime's own command-line flags must leave node's built-in code cache usable: a V8 flag
 * that enters V8's flag hash (--freeze-flags-after-init, --max-lazy, …) makes V8 reject that
 * cache, and every built-in module a job loads is compiled again from source in every sandbox
 * (31 ms of CPU for http, crypto and zlib on the bench machine). The flags are read from the
 * launcher's own arguments, so a flag added there is checked here.
 */
describe('the sandbox runtime flags', () => {
  const node = resolveSandboxNode();
  const options = { nodePath: node, helperPath: resolveSpawnHelper(), bootstrapPath: BOOTSTRAP_PATH, heapMb: 128, cwd: '/tmp' };
  const args = launcherArgs(options, sandboxPaths(options, { work: '/tmp/w', entry: '/tmp/e', packagesLink: '/tmp/p' }));
  const runtime = args.slice(args.indexOf('--') + 2);
  // Everything between the binary and the bootstrap preload, but the permission model's own (it would refuse --expose-internals).
  const flags = runtime.slice(0, runtime.indexOf('-r')).filter((flag) => flag !== '--permission' && !flag.startsWith('--allow-'));

  /** Built-in modules compiled with and without node's code cache, after loading a few that no start loads. */
  function cacheUsage(extra: string[]): { withCache: number; withoutCache: number } {
    const code =
      "for (const m of ['http', 'crypto', 'zlib', 'stream']) require(m);" +
      "const u = require('internal/test/binding').internalBinding('builtins').getCacheUsage();" +
      'console.log(JSON.stringify({ withCache: u.compiledWithCache.size, withoutCache: u.compiledWithoutCache.size }))';
    return JSON.parse(execFileSync(node, [...extra, '--no-warnings', '--expose-internals', '-e', code], { encoding: 'utf8' })) as { withCache: number; withoutCache: number };
  }

  it('are the heap limit and node options only (the job channel and the bootstrap come after them)', () => {
    expect(flags).toContain('--max-old-space-size=128');
    expect(flags).not.toContain('--freeze-flags-after-init');
  });

  it('keep every built-in module on the code cache', () => {
    const usage = cacheUsage(flags);
    expect(usage.withCache).toBeGreaterThan(10);
    expect(usage.withoutCache).toBe(0);
  });

  it("would be caught by this check if one of them entered V8's flag hash", () => {
    expect(cacheUsage([...flags, '--freeze-flags-after-init']).withoutCache).toBeGreaterThan(10);
  });
});
