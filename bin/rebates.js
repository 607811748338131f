#!/usr/bin/env node
// The `rebates` command. The sources are TypeScript, run through tsx so that
// there is no build step to forget (docs/decisions/0003-run-typescript-with-tsx.md).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv);
