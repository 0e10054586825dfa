import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { loadConfig } from '../../src/config/load.js';
import { readConfigDoc, type IgnoredSetting } from '../../src/config/loki-compat.js';
import { schema } from '../../src/config/merge.js';
import { NARVI_BIN, removeDir, tempDir, waitReady } from '../helpers/server.js';
import { spawnNarvi, type NarviProcess } from '../helpers/process.js';

const FIXTURE = join(import.meta.dirname, 'fixtures/loki-local-config.yaml');

const dirs: string[] = [];
const procs: NarviProcess[] = [];
afterEach(async () => {
  for (const p of procs.splice(0)) await p.stop();
  for (const d of dirs.splice(0)) removeDir(d);
});

/** The fixture with its /tmp/loki paths moved into a fresh directory. */
function lokiFile(edit: (text: string) => string = (t) => t): { file: string; dir: string } {
  const dir = tempDir();
  dirs.push(dir);
  const file = join(dir, 'loki.yaml');
  writeFileSync(file, edit(readFileSync(FIXTURE, 'utf8').replaceAll('/tmp/loki', join(dir, 'loki'))));
  return { file, dir };
}

function yamlFile(text: string): string {
  const dir = tempDir();
  dirs.push(dir);
  const file = join(dir, 'c.yaml');
  writeFileSync(file, text);
  return file;
}

function load(text: string): { ignored: IgnoredSetting[]; cfg: ReturnType<typeof loadConfig> } {
  const ignored: IgnoredSetting[] = [];
  return { cfg: loadConfig(['--config.file', yamlFile(text)], {}, ignored), ignored };
}

function runServer(args: string[]) {
  return spawnSync(process.execPath, [NARVI_BIN, 'server', ...args], { encoding: 'utf8', timeout: 30_000 });
}

describe("Loki's stock single-binary config", () => {
  it('loads: path_prefix becomes storage.path, server settings apply, every Loki-only setting is listed once', () => {
    const { file, dir } = lokiFile();
    const ignored: IgnoredSetting[] = [];
    const cfg = loadConfig(['--config.file', file], {}, ignored);
    expect(cfg.storage.path).toBe(join(dir, 'loki'));
    expect(cfg.server.port).toBe(3100);
    expect(cfg.server.logLevel).toBe('debug');
    expect(cfg.authEnabled).toBe(false);
    expect(cfg.storage.backend).toBe('filesystem');
    // Loki's pattern_ingester.enabled is narvi's too.
    expect(cfg.patternIngester.enabled).toBe(true);
    expect(ignored.map((i) => i.key)).toEqual([
      'server.grpc_listen_port',
      'server.grpc_server_max_concurrent_streams',
      'common.instance_addr',
      'common.storage.filesystem',
      'common.replication_factor',
      'common.ring',
      'query_range',
      'limits_config.metric_aggregation_enabled',
      'limits_config.enable_multi_variant_queries',
      'schema_config',
      'pattern_ingester.metric_aggregation',
      'ruler',
      'frontend',
    ]);
    for (const i of ignored) expect(i.reason.length).toBeGreaterThan(10);
  });

  it('starts a server that takes pushes and answers queries, warning once per ignored setting', async () => {
    const { file, dir } = lokiFile();
    const p = await spawnNarvi(['server', '--config.file', file, '--server.http-listen-address', '127.0.0.1', '--server.http-listen-port', '0']);
    procs.push(p);
    await waitReady(p.url, p.output);
    const ns = BigInt(Date.now()) * 1_000_000n;
    const push = await fetch(`${p.url}/loki/api/v1/push`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ streams: [{ stream: { job: 'loki-cfg' }, values: [[String(ns), 'hello from a Loki config']] }] }),
    });
    expect(push.status).toBe(204);
    const q = await fetch(`${p.url}/loki/api/v1/query_range?query=${encodeURIComponent('{job="loki-cfg"}')}&start=${ns - 1_000_000_000n}&end=${ns + 1_000_000_000n}`);
    expect(q.status).toBe(200);
    const body = (await q.json()) as { data: { result: { values: [string, string][] }[] } };
    expect(body.data.result.map((r) => r.values)).toEqual([[[String(ns), 'hello from a Loki config']]]);
    // The data lives under common.path_prefix.
    expect(existsSync(join(dir, 'loki'))).toBe(true);
    const out = p.output();
    for (const key of ['server.grpc_listen_port', 'common.ring', 'schema_config', 'ruler', 'frontend', 'query_range', 'limits_config.metric_aggregation_enabled']) {
      const lines = out.split('\n').filter((l) => l.includes(`ignoring Loki setting ${key}:`));
      expect(lines, key).toHaveLength(1);
      expect(lines[0]).toContain('level=warn');
    }
    // Nested keys of an ignored section get no warning of their own.
    expect(out).not.toContain('ignoring Loki setting common.ring.kvstore');
    expect(out).not.toContain('ignoring Loki setting schema_config.configs');
    // Settings narvi does use are not warned about.
    expect(out).not.toContain('ignoring Loki setting common.path_prefix');
    expect(out).not.toContain('ignoring Loki setting server.http_listen_port');
  });
});

describe('Loki names mapped onto narvi settings', () => {
  it('maps limits_config, ingester, querier, compactor and server settings of the same meaning', () => {
    const { cfg, ignored } = load(`
limits_config:
  retention_period: 744h
  max_line_size: 1KB
  ingestion_rate_mb: 8
ingester:
  chunk_idle_period: 1h
  max_chunk_age: 3h
  chunk_target_size: 1048576
  chunk_block_size: 262144
  wal:
    enabled: false
    dir: /loki/wal
querier:
  max_concurrent: 7
  tail_max_duration: 30m
compactor:
  working_directory: /loki/compactor
  compaction_interval: 5m
  retention_enabled: true
  delete_request_cancel_period: 1h
server:
  http_listen_address: 127.0.0.2
  http_listen_port: 3200
  log_level: warn
query_scheduler:
  max_outstanding_requests_per_tenant: 99
`);
    expect(cfg.limits.retentionPeriod).toBe(744n * 3600n * 1_000_000_000n);
    expect(cfg.limits.maxLineSize).toBe(1000);
    expect(cfg.limits.ingestionRateBytes).toBe(8 * 1024 * 1024);
    expect(cfg.ingester.chunkIdlePeriod).toBe(3600n * 1_000_000_000n);
    expect(cfg.ingester.maxChunkAge).toBe(3n * 3600n * 1_000_000_000n);
    expect(cfg.ingester.chunkTargetSize).toBe(1048576);
    expect(cfg.ingester.chunkBlockSize).toBe(262144);
    expect(cfg.ingester.wal.enabled).toBe(false);
    expect(cfg.querier.maxConcurrent).toBe(7);
    expect(cfg.querier.tailMaxDurationMs).toBe(30 * 60_000);
    expect(cfg.compactor.compactionIntervalMs).toBe(5 * 60_000);
    expect(cfg.compactor.deleteRequestCancelPeriodMs).toBe(3600_000);
    expect(cfg.server.address).toBe('127.0.0.2');
    expect(cfg.server.port).toBe(3200);
    expect(cfg.server.logLevel).toBe('warn');
    expect(cfg.querier.maxOutstandingPerTenant).toBe(99);
    // retention_enabled: true is what narvi does anyway: no warning.
    expect(ignored.map((i) => i.key)).toEqual(['ingester.wal.dir', 'compactor.working_directory']);
  });

  it('warns that retention_enabled: false does not stop retention', () => {
    const { ignored } = load('compactor:\n  retention_enabled: false\n');
    expect(ignored).toHaveLength(1);
    expect(ignored[0]!.key).toBe('compactor.retention_enabled');
    expect(ignored[0]!.reason).toContain('limits.retention_period');
  });

  it('maps common.storage.s3 and storage_config.aws onto storage.s3, switching the backend to s3', () => {
    const { cfg } = load(`
common:
  storage:
    s3:
      endpoint: minio:9000
      insecure: true
      bucketnames: logs
      region: eu-west-1
      access_key_id: AK
      secret_access_key: SK
      s3forcepathstyle: false
`);
    expect(cfg.storage.backend).toBe('s3');
    expect(cfg.storage.s3).toEqual({ endpoint: 'http://minio:9000', region: 'eu-west-1', bucket: 'logs', prefix: '', accessKeyId: 'AK', secretAccessKey: 'SK', forcePathStyle: false });
    const aws = load('storage_config:\n  aws:\n    endpoint: s3.example.com\n    bucketnames: b1\n').cfg;
    expect(aws.storage.s3.endpoint).toBe('https://s3.example.com');
    expect(aws.storage.s3.bucket).toBe('b1');
    expect(aws.storage.backend).toBe('s3');
    // A URL given with its scheme is kept as it is.
    expect(load('storage_config:\n  aws:\n    endpoint: http://x:9000\n    bucketnames: b\n').cfg.storage.s3.endpoint).toBe('http://x:9000');
  });

  it('refuses what would silently store elsewhere: several buckets, the s3:// URL form, two paths', () => {
    expect(() => load('common:\n  storage:\n    s3:\n      bucketnames: a,b\n')).toThrow(/common\.storage\.s3\.bucketnames: narvi stores in exactly one bucket, got "a,b"/);
    expect(() => load('storage_config:\n  aws:\n    s3: s3://eu-west-1/bucket\n')).toThrow(/storage_config\.aws\.s3: narvi does not read the s3:\/\/ URL form/);
    expect(() => load('common:\n  path_prefix: /a\nstorage:\n  path: /b\n')).toThrow(/common\.path_prefix and storage\.path both set storage\.path, to different values/);
    // The same value twice is fine.
    expect(load('common:\n  path_prefix: /a\nstorage:\n  path: /a\n').cfg.storage.path).toBe('/a');
  });

  it('refuses object stores narvi does not speak instead of quietly storing on local disk', () => {
    expect(() => load('storage_config:\n  gcs:\n    bucket_name: b\n')).toThrow(/storage_config\.gcs: narvi stores on the filesystem or S3/);
    expect(() => load('common:\n  storage:\n    azure:\n      container_name: c\n')).toThrow(/common\.storage\.azure: narvi stores on the filesystem or S3/);
  });

  it('skips the ring and gossip settings of a scalable Loki, once each', () => {
    const { ignored } = load('distributor:\n  ring:\n    kvstore:\n      store: memberlist\ningester:\n  lifecycler:\n    ring:\n      replication_factor: 3\nmemberlist:\n  join_members: [loki-memberlist]\n');
    expect(ignored.map((i) => i.key)).toEqual(['distributor.ring', 'ingester.lifecycler', 'memberlist']);
  });

  it('reports a bad value under the Loki name the file used, unless a flag replaced it', () => {
    const file = yamlFile('limits_config:\n  retention_period: 1h\ncommon:\n  path_prefix: /x\n');
    expect(() => loadConfig(['--config.file', file], {})).toThrow(`limits.retention_period must be 0s (keep for ever) or at least 24h, got "1h" (written as limits_config.retention_period in config file ${file})`);
    let msg = '';
    try {
      loadConfig(['--config.file', file, '--limits.retention-period', '2h'], {});
    } catch (err) {
      msg = (err as Error).message;
    }
    expect(msg).toBe('limits.retention_period must be 0s (keep for ever) or at least 24h, got "2h"');
  });

  it('reads an empty Loki section (YAML null) as nothing to set', () => {
    expect(load('limits_config:\ncompactor:\n').cfg.limits.maxLineSize).toBe(256_000);
  });

  it('is table-driven: a narvi setting spelt as Loki spells it needs no table entry', () => {
    // limits_config.<name> lands on limits.<name> for every limit narvi has.
    for (const path of schema.knownPaths().filter((p) => p.startsWith('limits.') && !p.includes('retention_stream'))) {
      const name = path.slice('limits.'.length);
      const r = readConfigDoc({ limits_config: { [name]: 'x' } }, schema);
      expect(r.problems, name).toEqual([]);
      expect((r.doc.limits as Record<string, unknown>)[name]).toBe('x');
    }
  });
});

describe('unknown keys', () => {
  it('are refused with the nearest name at their level', () => {
    expect(() => load('ingester:\n  chunk_idle_perod: 1h\n')).toThrow('unknown setting "ingester.chunk_idle_perod"; did you mean "ingester.chunk_idle_period"?');
    expect(() => load('limit_config:\n  max_line_size: 1KB\n')).toThrow('unknown setting "limit_config"; did you mean "limits_config"?');
    expect(() => load('limits_config:\n  max_line_sise: 1KB\n')).toThrow('unknown setting "limits_config.max_line_sise"; did you mean "limits_config.max_line_size"?');
    expect(() => load('common:\n  path_prefx: /x\n')).toThrow('unknown setting "common.path_prefx"; did you mean "common.path_prefix"?');
    expect(() => load('sever:\n  http_listen_port: 1\n')).toThrow('unknown setting "sever"; did you mean "server"?');
  });

  it('without a near name, list the names of that level only', () => {
    let msg = '';
    try {
      load('server:\n  zzzzzzzzzz: 1\n');
    } catch (err) {
      msg = (err as Error).message;
    }
    expect(msg).toContain('unknown setting "server.zzzzzzzzzz"; "server" has: ');
    expect(msg).toContain('http_listen_port');
    expect(msg).toContain('grpc_listen_port');
    expect(msg).not.toContain('max_line_size');
  });

  it('exit 2 with one line per problem, all of them at once, and no server started', () => {
    const file = yamlFile('server:\n  http_lisen_port: 1\ningester:\n  chunk_idle_perod: 1h\nlimits_config:\n  max_line_sise: 1KB\nstorage_config:\n  aws:\n    s3: s3://x/y\n');
    const r = runServer(['--config.file', file]);
    expect(r.status).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toEqual([
      `narvi server: config file ${file}: unknown setting "server.http_lisen_port"; did you mean "server.http_listen_port"?`,
      `narvi server: config file ${file}: unknown setting "ingester.chunk_idle_perod"; did you mean "ingester.chunk_idle_period"?`,
      `narvi server: config file ${file}: unknown setting "limits_config.max_line_sise"; did you mean "limits_config.max_line_size"?`,
      `narvi server: config file ${file}: storage_config.aws.s3: narvi does not read the s3:// URL form; give bucketnames, endpoint, region, access_key_id and secret_access_key instead`,
    ]);
  });

  it('flags and environment get the suggestion too, without every setting dumped on the line', () => {
    const r = runServer(['--server.http-lisen-port', '1']);
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe('narvi server: flag --server.http-lisen-port: unknown setting "server.http_lisen_port"; did you mean "server.http_listen_port"?');
  });
});

describe("Loki's command line", () => {
  it('takes -config.file=… with one dash and expands ${VAR:default} with -config.expand-env=true', () => {
    const file = yamlFile('server:\n  http_listen_port: ${NARVI_TEST_PORT:3100}\n  http_listen_address: ${NARVI_TEST_ADDR}\n');
    const ignored: IgnoredSetting[] = [];
    const cfg = loadConfig([`-config.file=${file}`, '-config.expand-env=true'], { NARVI_TEST_ADDR: '127.0.0.9' }, ignored);
    expect(cfg.server.port).toBe(3100);
    expect(cfg.server.address).toBe('127.0.0.9');
    // Without the flag the text is read as written, and "${NARVI_TEST_PORT:3100}" is no port.
    expect(() => loadConfig(['-config.file', file], {})).toThrow(/server\.http_listen_port must be a number/);
    expect(() => loadConfig(['-config.file', file, '-config.expand-env', 'maybe'], {})).toThrow('--config.expand-env must be true or false, got "maybe"');
  });

  it('the server starts from a one-dash Loki command line', async () => {
    const { file } = lokiFile();
    const p = await spawnNarvi(['server', `-config.file=${file}`, '-config.expand-env=true', '-server.http-listen-address=127.0.0.1', '-server.http-listen-port', '0']);
    procs.push(p);
    await waitReady(p.url, p.output);
  });
});

describe('narvi server --help', () => {
  it('describes every setting in one line under it', () => {
    const r = runServer(['--help']);
    expect(r.status).toBe(0);
    const lines = r.stdout.split('\n');
    const paths = schema.knownPaths();
    expect(paths.length).toBeGreaterThan(50);
    for (const p of paths) {
      const at = lines.findIndex((l) => l.startsWith(`  ${p} `));
      expect(at, p).toBeGreaterThan(0);
      const desc = lines[at + 1]!;
      expect(desc, p).toMatch(/^ {6}\S/);
      expect(desc.trim().length, p).toBeGreaterThan(10);
    }
  });
});

describe('the fixture', () => {
  it('is the YAML of a Loki 3 single binary', () => {
    const doc = YAML.parse(readFileSync(FIXTURE, 'utf8')) as Record<string, unknown>;
    expect(Object.keys(doc)).toEqual(['auth_enabled', 'server', 'common', 'query_range', 'limits_config', 'schema_config', 'pattern_ingester', 'ruler', 'frontend']);
  });
});
