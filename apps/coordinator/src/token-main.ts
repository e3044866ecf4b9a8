// `npm run token -- issue|revoke|list`: per-client tokens in a coordinator's out-dir (see credentials/).
import { runTokenCommand } from './credentials/token-command';

runTokenCommand(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
}).then(
  (code) => {
    process.exitCode = code;
  },
  (err: Error) => {
    process.stderr.write(`fedtl token: ${err.stack ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
