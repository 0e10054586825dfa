import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AgentConfig } from './config.js';
import type { Logger } from '../src/model/logger.js';
import type { AgentMetrics } from './metrics.js';

/** The endpoint could not be opened; the message is the whole story, for one log line. */
export class AgentListenError extends Error {}

/**
 * The agent's own HTTP endpoint: `/metrics` for Prometheus and `/ready` for the kubelet's readiness probe
 * (200 once targets are discovered, 503 before and while shutting down). A bare node:http server: the agent
 * serves two routes and should stay small.
 */
export class AgentHttp {
  private server: http.Server | undefined;
  ready = false;

  constructor(private readonly metrics: AgentMetrics) {}

  /**
   * Opens the endpoint as `server` says and returns its `http://host:port`, or '' when it is off. When the
   * address is taken, a file-tailing agent refuses to start: its readiness probe would never pass (or would
   * ask whatever else holds the port), so failing at once, with the fix in the message, is kinder than
   * running unseen. A `--stdin` run is a one-off pipe: it warns and ships its input without the endpoint.
   */
  async open(server: AgentConfig['server'], opts: { optional: boolean }, log: Logger): Promise<string> {
    if (!server.enabled) {
      if (opts.optional) log.debug('no /metrics and /ready listener for --stdin (give server.http_listen_port to have one)');
      else log.info('no /metrics and /ready listener (server.disable)');
      return '';
    }
    let addr: AddressInfo;
    try {
      addr = await this.listen(server.address, server.port);
    } catch (err) {
      const message = listenFailure(server.address, server.port, err as NodeJS.ErrnoException);
      if (!opts.optional) throw new AgentListenError(message);
      log.warn(`${message}; shipping standard input without them`);
      return '';
    }
    const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
    const address = `http://${host}:${addr.port}`;
    log.info('listening', { address });
    return address;
  }

  listen(host: string, port: number): Promise<AddressInfo> {
    const server = http.createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { 'content-type': 'text/plain', allow: 'GET, HEAD' }).end('method not allowed\n');
        return;
      }
      if (path === '/ready') {
        if (this.ready) res.writeHead(200, { 'content-type': 'text/plain' }).end('ready\n');
        else res.writeHead(503, { 'content-type': 'text/plain' }).end('not ready\n');
        return;
      }
      if (path === '/metrics') {
        this.metrics.registry.metrics().then(
          (text) => res.writeHead(200, { 'content-type': this.metrics.registry.contentType }).end(text),
          (err: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(err.message + '\n'),
        );
        return;
      }
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: the agent serves /metrics and /ready\n');
    });
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        this.server = server;
        resolve(server.address() as AddressInfo);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((res) => {
      if (!this.server) return res();
      this.server.close(() => res());
      this.server.closeAllConnections();
    });
  }
}

function listenFailure(host: string, port: number, err: NodeJS.ErrnoException): string {
  const where = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  const fix = 'set server.http_listen_port (flag --server.http-listen-port) to a free port, or server.disable: true (flag --server.disable) to run without them';
  switch (err.code) {
    case 'EADDRINUSE':
      return `cannot serve /metrics and /ready on ${where}: the address is already in use (another agent or promtail?); ${fix}`;
    case 'EACCES':
      return `cannot serve /metrics and /ready on ${where}: permission denied (ports below 1024 need privileges); ${fix}`;
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
      return `cannot serve /metrics and /ready on ${where}: no such local address; set server.http_listen_address to one of this host's addresses, or server.disable: true`;
    default:
      return `cannot serve /metrics and /ready on ${where}: ${err.message}`;
  }
}
