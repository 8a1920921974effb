#!/usr/bin/env node
// Entry shim for the `consulkv` face: `consulkv read K` runs `consul consulkv read K`.
import { runCli } from '../dist/src/cli.js'
await runCli(['consulkv', ...process.argv.slice(2)], import.meta.url)
