import type { Command } from 'commander';

const collect = (v: string, prev: string[] = []) => [...prev, v];

/**
 * `narvi agent`: the node agent. Common settings have flags of their own; every other config key can be set
 * as `--section.key value` (dashes or underscores), and flags win over the file.
 */
export function register(program: Command): void {
  program
    .command('agent')
    .description('run the node agent: tail log files (Kubernetes pods, globs, stdin) and push them to the server')
    .option('--config.file <path>', 'YAML config file (see README.md, "The agent")')
    .option('--client.url <url>', 'push URL, e.g. http://localhost:3100/loki/api/v1/push')
    .option('--positions.path <path>', 'where read positions are saved (default ./positions.yaml)')
    .option('--kubernetes.pods-root <dir>', 'kubelet pod log directory (default /var/log/pods)')
    .option('--path <glob>', 'tail files matching this glob (repeatable); labelled with --label', collect)
    .option('--label <name=value>', 'label for --path or --stdin (repeatable)', collect)
    .option('--stdin', 'ship lines from standard input, then exit')
    .option('--server.http-listen-port <port>', 'port of /metrics and /ready (default 9080; 0 picks a free one)')
    .option('--server.disable [bool]', 'run without the /metrics and /ready listener (--stdin runs without it unless a port is given)')
    .option('--kubernetes.pod-labels <keys>', 'pod label keys to add to the streams besides the default app/component ones (comma-separated, repeatable)', collect)
    .allowUnknownOption()
    .allowExcessArguments()
    .action(async (opts: Record<string, unknown>, cmd: Command) => {
      const [{ loadAgentConfig, AgentConfigError }, { runAgentProcess }] = await Promise.all([import('../../agent/config.js'), import('../../agent/main.js')]);
      const settings: [string, string | boolean][] = [];
      const named: [string, string][] = [
        ['client.url', 'client.url'],
        ['positions.path', 'positions.path'],
        ['kubernetes.podsRoot', 'kubernetes.pods_root'],
        ['server.httpListenPort', 'server.http_listen_port'],
      ];
      for (const [opt, key] of named) if (opts[opt] !== undefined) settings.push([key, String(opts[opt])]);
      if (opts['server.disable'] !== undefined) settings.push(['server.disable', opts['server.disable'] as string | boolean]);
      for (const keys of (opts['kubernetes.podLabels'] as string[] | undefined) ?? []) settings.push(['kubernetes.pod_labels', keys]);
      const extra = cmd.args;
      for (let i = 0; i < extra.length; i++) {
        const a = extra[i]!;
        if (!a.startsWith('--')) {
          process.stderr.write(`narvi agent: unexpected argument ${JSON.stringify(a)}: settings are given as --section.key value\n`);
          process.exitCode = 2;
          return;
        }
        const eq = a.indexOf('=');
        if (eq > 0) settings.push([a.slice(2, eq), a.slice(eq + 1)]);
        else if (i + 1 < extra.length && !extra[i + 1]!.startsWith('--')) settings.push([a.slice(2), extra[++i]!]);
        else settings.push([a.slice(2), true]);
      }
      let cfg;
      try {
        cfg = loadAgentConfig({
          configFile: opts['config.file'] as string | undefined,
          paths: opts.path as string[] | undefined,
          labels: opts.label as string[] | undefined,
          stdin: opts.stdin === true,
          settings,
        });
      } catch (err) {
        if (err instanceof AgentConfigError) {
          process.stderr.write(`narvi agent: invalid configuration: ${err.message}\n`);
          process.exitCode = 2;
          return;
        }
        throw err;
      }
      await runAgentProcess(cfg);
    });
}
