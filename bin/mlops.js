#!/usr/bin/env node
// The `mlops` command: the bundled CLI (built by `npm ci` / `npm run build`).
require('../dist/cli.js');
