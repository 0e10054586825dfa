#!/usr/bin/env node
import v8 from 'node:v8';

// User regexes (selectors, line filters) must not backtrack catastrophically: let V8 fall back to its
// linear-time engine. Set before any module that compiles a RegExp is loaded.
v8.setFlagsFromString('--enable-experimental-regexp-engine-on-excessive-backtracks');

const { buildProgram } = await import('./program.js');
const program = await buildProgram();
await program.parseAsync(process.argv);
