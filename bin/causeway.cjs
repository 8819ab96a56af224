#!/usr/bin/env node
// The installed `causeway` command: runs the CLI bundle that `npm install` built.
require('../dist/cli/causeway.cjs');
