// `fedtl client`: its declared options and how to run it (the heavy modules load only when it runs).
import { FedtlError } from '@fedtl/util';
import type { CommandSpec } from '@fedtl/util/options';
import { CLIENT_OPTIONS } from './client-options';
import { EXIT_CODES, exitCodeForError } from './exit-codes';

export const CLIENT_COMMAND: CommandSpec<typeof CLIENT_OPTIONS> = {
  name: 'client',
  summary: 'one organisation\'s client: join a coordinator and train on local data that never leaves, or adapt a published model (--adapt-only)',
  epilogue: `
Examples:
  fedtl client --coordinator http://127.0.0.1:8080 --client-id org-1 --demo-mailbox 1
  FEDTL_TOKEN_FILE=/run/secrets/token fedtl client --coordinator https://coordinator.example:8443 --client-id org-7 \\
    --data mail.jsonl --require-secure-aggregation --dp-epsilon 8
  fedtl client --adapt-only --init-from out/meta --data my-labelled.jsonl --train-limit 16 --save-adapted adapted.ckpt

Exit status: 0 the run finished; 1 the run failed (its cause is printed) or this client failed; 2 refused by
the coordinator or by its own privacy policy, or misconfigured (options, a URL with a path, an untrusted
certificate, a corrupt --dp-ledger); 3 the coordinator stayed unreachable; 130/143 stopped by SIGINT/SIGTERM.`,
  options: CLIENT_OPTIONS,
  async validate(loaded) {
    const { clientConfigFrom } = await import('./config');
    clientConfigFrom(loaded);
  },
  async run(loaded, io) {
    const [{ clientConfigFrom }, { failWithoutOutcome, runClientProcess }] = await Promise.all([import('./config'), import('./client-process')]);
    const config = clientConfigFrom(loaded);
    failWithoutOutcome();
    return runClientProcess(config, io);
  },
  exitCodeFor: (err) => (err instanceof FedtlError ? exitCodeForError(err) : EXIT_CODES.failed),
};
