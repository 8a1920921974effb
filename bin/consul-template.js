#!/usr/bin/env node
// Entry shim for the `consul-template` face: `consul-template -once ...` runs `consul consul-template -once ...`.
import { runCli } from '../dist/src/cli.js'
await runCli(['consul-template', ...process.argv.slice(2)], import.meta.url)
