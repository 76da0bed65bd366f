import { main } from './lib/cli';
import { EXIT } from './lib/exit-codes';

// `npm run corral -- run hello.js` runs in the repository root: read files where npm was called.
if (process.env['npm_lifecycle_event'] === 'corral' && process.env['INIT_CWD']) process.chdir(process.env['INIT_CWD']);

// Ctrl-C abandons the call (the router then stops the program) and exits 130; a second one at once.
const interrupt = new AbortController();
process.once('SIGINT', () => {
  interrupt.abort(new Error('Ctrl-C'));
  process.once('SIGINT', () => process.exit(EXIT.interrupted));
});

main(process.argv, interrupt.signal).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`corral: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
