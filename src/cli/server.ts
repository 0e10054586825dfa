import type { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('server')
    .description('run the server components (all of them by default) on the embedded store')
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .argument('[settings...]', 'settings as --section.key value, e.g. --server.http-listen-port 3200; --config.file FILE; --target all|distributor|ingester|querier|compactor|backend')
    .action(async () => {
      const args = process.argv.slice(process.argv.indexOf('server') + 1);
      const { runServer } = await import('./run-server.js');
      await runServer(args);
    });
}
