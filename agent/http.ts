import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AgentMetrics } from './metrics.js';

/**
 * The agent's own HTTP endpoint: `/metrics` for Prometheus and `/ready` for the kubelet's readiness probe
 * (200 once targets are discovered, 503 before and while shutting down). A bare node:http server: the agent
 * serves two routes and should stay small.
 */
export class AgentHttp {
  private server: http.Server | undefined;
  ready = false;

  constructor(private readonly metrics: AgentMetrics) {}

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
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve(server.address() as AddressInfo));
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
