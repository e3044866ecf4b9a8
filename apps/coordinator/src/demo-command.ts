// `fedtl demo`: its declared options and how to run it (the demo itself loads only when it runs).
import type { CommandSpec } from '@fedtl/util/options';
import { DEMO_OPTIONS } from './demo-options';

export const DEMO_COMMAND: CommandSpec<typeof DEMO_OPTIONS> = {
  name: 'demo',
  summary: 'a real federation on this machine: a coordinator and 4 client processes (organisations with a few labelled mails each)',
  epilogue: `
Each client is one organisation with its own SpamAssassin mailbox (shipped with npm) and a few labelled mails;
the table at the end compares each organisation's accuracy with the federated, local-only and personalised models.

Exit status: 0 the federation ran and the table was printed; 1 it failed (a process's output is shown);
2 an invalid option.

The demo before issue 8, where every organisation had 225 labelled mails and training alone won:
  fedtl demo --clients 3 --train-limit 0 --per-organisation 300 --rounds 5 --local-epochs 3 \\
    --batch-size 32 --learning-rate 0.003 --personalize-epochs 5`,
  options: DEMO_OPTIONS,
  async validate(loaded) {
    const { demoOptionsFrom } = await import('./demo-options');
    demoOptionsFrom(loaded.values);
  },
  async run(loaded) {
    const [{ demoOptionsFrom }, { runDemo }] = await Promise.all([import('./demo-options'), import('./demo')]);
    return runDemo(demoOptionsFrom(loaded.values));
  },
};
