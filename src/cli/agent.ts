import type { Command } from 'commander';

// Placeholder until the node agent lands (issue 4): keeps `narvi agent` discoverable in --help.
export function register(program: Command): void {
  program
    .command('agent')
    .description('run the node agent: tail log files and push them to the server')
    .allowUnknownOption()
    .action(() => {
      process.stderr.write('narvi agent: not implemented yet\n');
      process.exitCode = 2;
    });
}
