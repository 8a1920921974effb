#!/usr/bin/env node
// Entry shim for the `consul` face: Consul's Go-style single-dash flags are
// rewritten to oclif's double-dash form before oclif parses them.
import { runCli } from '../dist/src/cli.js'
await runCli(process.argv.slice(2), import.meta.url)
