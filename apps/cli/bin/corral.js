#!/usr/bin/env node
// The `corral` command (package.json "bin"): the built CLI, so that `npx corral` finds it whether
// or not dist/ existed when npm linked the bin.
require('../dist/main.js');
