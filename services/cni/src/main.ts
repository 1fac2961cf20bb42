#!/usr/bin/env node
// weft-cni, as the container runtime runs it: environment and stdin in, result or error JSON out.
import { text } from 'node:stream/consumers';
import { runPlugin } from './skel.js';

const outcome = await runPlugin(process.env, process.stdin.isTTY ? '' : await text(process.stdin));
if (outcome.stdout) process.stdout.write(`${outcome.stdout}\n`);
process.exitCode = outcome.exitCode;
