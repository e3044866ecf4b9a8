#!/usr/bin/env node
'use strict';
// The `fedtl` executable: the apps built to JavaScript by `npm run build` (run by `npm ci` through `prepare`).
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const built = join(__dirname, '..', 'dist', 'fedtl', 'main.js');
if (!existsSync(built)) {
  process.stderr.write(`fedtl: ${built} is missing: build it with \`npm run build\` (npm ci does this)\n`);
  process.exit(1);
}
require(built);
