#!/usr/bin/env node
// Entry point of the `cnn-lens` command: the CLI is bundled by `npm run build` into dist/cli.js.
'use strict';
const path = require('path');
const fs = require('fs');
const cli = path.join(__dirname, '..', 'dist', 'cli.js');
if (!fs.existsSync(cli)) {
  process.stderr.write('cnn-lens: dist/cli.js is missing; run `npm run build` first\n');
  process.exit(1);
}
require(cli);
