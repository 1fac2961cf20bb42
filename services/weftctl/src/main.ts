#!/usr/bin/env node
// weftctl: the command-line tool of Weft. Everything is in cli.ts; this file only runs it and
// exits with its code (the codes are listed in errors.ts and the README).
import { run } from './cli.js';

process.exitCode = await run(process.argv.slice(2));
