import { Command } from 'commander';
import { VERSION } from '../model/version.js';

/** A subcommand file registers itself here; its action imports the heavy modules lazily so the CLI starts fast. */
export type Register = (program: Command) => void;

// One file per subcommand. Keep this list in the order `narvi --help` shows them.
const COMMAND_FILES = [
  './server.js',
  './agent.js',
  './query.js',
  './instant-query.js',
  './labels.js',
  './series.js',
  './stats.js',
  './volume.js',
  './tail.js',
  './fmt.js',
  './index.js',
];

export async function buildProgram(): Promise<Command> {
  const program = new Command('narvi')
    .description('narvi: Loki-compatible log aggregation — server, node agent and query CLI')
    .version(VERSION);
  for (const file of COMMAND_FILES) {
    const mod = (await import(file)) as { register: Register };
    mod.register(program);
  }
  return program;
}
