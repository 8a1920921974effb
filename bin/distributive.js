#!/usr/bin/env node
// Entry shim for the `distributive` face: `distributive -f x.json` runs `consul distributive -f x.json`.
// Upstream spellings (`-s=true`, `-d ''`, `-verbosity=info`) are rewritten first: see src/distributive/argv.ts.
import { runCli } from '../dist/src/cli.js'
import { distributiveArgv } from '../dist/src/distributive/argv.js'
await runCli(['distributive', ...distributiveArgv(process.argv.slice(2))], import.meta.url)
