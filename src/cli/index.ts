import type { Command } from 'commander';

/** `narvi index rebuild`: the label index rebuilt from the chunk store, with the server stopped. */
export function register(program: Command): void {
  const index = program.command('index').description('maintain the label index');
  index
    .command('rebuild')
    .description('rebuild the label index (<storage.path>/index/index.sqlite) from the chunk store; the server must not be running')
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .argument('[settings...]', 'the server\'s settings: --config.file FILE and/or --storage.path DIR (and the S3 settings when the store is S3)')
    .action(async () => {
      const args = process.argv.slice(process.argv.indexOf('rebuild') + 1);
      const { runIndexRebuild } = await import('./run-index-rebuild.js');
      process.exitCode = await runIndexRebuild(args);
    });
}
