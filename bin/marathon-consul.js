#!/usr/bin/env node
// Entry shim for the `marathon-consul` face: `marathon-consul --flag` runs `consul bridge marathon --flag`.
import { runCli } from '../dist/src/cli.js'
await runCli(['bridge', 'marathon', ...process.argv.slice(2)], import.meta.url)
