#!/usr/bin/env -S node --max-semi-space-size=64
// The `rebates` command. The sources are TypeScript, run through tsx so that
// there is no build step to forget (docs/decisions/0003-run-typescript-with-tsx.md).
// A young generation of 64 MiB: an import keeps a batch of rows alive across
// collections, and the default (16 MiB) copies it again and again; at a million
// lines this halves the time spent collecting. `node bin/rebates.js` runs
// without it, correctly, just slower on large files.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv);
