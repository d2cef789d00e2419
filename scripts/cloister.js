#!/usr/bin/env node
// The `cloister` command: runs the compiled CLI in dist/ (built by `npm run build`, which `npm ci`
// runs through the `prepare` script).
import { createProcessIo } from '../dist/scripts/cli/cli-io.js'
import { runCli } from '../dist/scripts/cli/run-cli.js'

process.exitCode = await runCli(process.argv.slice(2), createProcessIo())
