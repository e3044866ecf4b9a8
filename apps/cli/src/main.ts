// Entry of the `fedtl` executable (bin/fedtl.js runs the built copy, dist/fedtl/main.js; under development
// `tsx apps/cli/src/main.ts` runs the sources).
import { runFedtl } from './program';

// `fedtl coordinator --help | head`: a reader that stops early is not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

runFedtl(process.argv.slice(2), {
  env: process.env,
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
}).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`fedtl: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
