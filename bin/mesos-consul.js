#!/usr/bin/env node
// Entry shim for the `mesos-consul` face: `mesos-consul --flag` runs `consul bridge mesos --flag`.
import { runCli } from '../dist/src/cli.js'
await runCli(['bridge', 'mesos', ...process.argv.slice(2)], import.meta.url)
