'use strict';
// Entry of every fedtl worker thread. fedtl runs from TypeScript sources (under tsx in the apps, under Jest in
// tests), while a worker starts as a bare Node.js thread: for a `.ts` body this file registers tsx, pointed at
// the tsconfig that maps the @fedtl/* aliases, and then loads the body. A worker's process.env is its own copy,
// so setting it here does not touch the parent's.
const { workerData } = require('node:worker_threads');

const { entry, tsconfigPath } = workerData;
if (entry.endsWith('.ts')) {
  if (tsconfigPath) process.env.TSX_TSCONFIG_PATH = tsconfigPath;
  require('tsx/cjs/api').register();
}
require(entry);
