import type { FastifyInstance } from 'fastify';
import { configYaml, type ConfigViewMode } from '../../config/config-view.js';
import { LEVELS, type Level, type LevelSwitch } from '../../model/logger.js';
import { internalAllowed } from '../internal-access.js';
import { RequestParams } from '../request-params.js';

export type ServiceState = 'Starting' | 'Running' | 'Stopping';

export interface AdminRouteDeps {
  /** The settings as merged (Config.raw). */
  raw: unknown;
  /** The components this process runs, each with its state now. */
  services: () => Record<string, ServiceState>;
  /** The level the server's logger shares; absent, `/log_level` answers that it cannot change. */
  level?: LevelSwitch;
  /** With auth on, changing the log level is an admin action (as POST /flush). */
  logLevelIsAdmin: boolean;
  internalSecret: string;
}

const MODES: Record<string, ConfigViewMode> = { diff: 'diff', defaults: 'defaults' };

/** `GET /config`, `GET /services` and `GET|POST /log_level`: what an operator asks a running Loki. */
export function adminRoutes(app: FastifyInstance, deps: AdminRouteDeps): void {
  app.get('/config', async (req, reply) => {
    const mode = new RequestParams(req).get('mode');
    if (mode !== undefined && !(mode in MODES)) {
      return reply.code(400).type('text/plain').send(`invalid mode ${JSON.stringify(mode)}: use mode=diff (settings that differ from the defaults), mode=defaults, or no mode for every setting\n`);
    }
    // text/plain so a browser shows it instead of offering a download (YAML has no registered type).
    return reply.type('text/plain; charset=utf-8').send(configYaml(deps.raw, mode === undefined ? 'full' : MODES[mode]!));
  });

  app.get('/services', async (_req, reply) => {
    const states = deps.services();
    const text = Object.keys(states)
      .sort()
      .map((name) => `${name} => ${states[name]}\n`)
      .join('');
    return reply.type('text/plain; charset=utf-8').send(text);
  });

  const logLevel = async (req: import('fastify').FastifyRequest, reply: import('fastify').FastifyReply) => {
    const sw = deps.level;
    if (req.method === 'GET') {
      return reply.send({ message: `Current log level is ${sw?.current ?? 'info'}` });
    }
    if (deps.logLevelIsAdmin && !internalAllowed(req, reply, deps.internalSecret, 'POST /log_level (an admin action while auth_enabled is true)')) return reply;
    const want = new RequestParams(req).get('log_level');
    if (want === undefined) {
      return reply.code(400).send({ message: `missing parameter "log_level": send log_level=${LEVELS.join('|')} as a form field or in the query string` });
    }
    const level = want.toLowerCase() as Level;
    if (!LEVELS.includes(level)) {
      return reply.code(400).send({ message: `invalid log level ${JSON.stringify(want)}: use one of ${LEVELS.join(', ')}` });
    }
    if (!sw) return reply.code(501).send({ message: 'this process logs at a fixed level' });
    sw.current = level;
    return reply.send({ message: `Log level set to ${level}` });
  };
  app.get('/log_level', logLevel);
  app.post('/log_level', logLevel);
}
