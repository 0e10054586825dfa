import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { silentLogger } from '../../src/model/logger.js';
import { PlainClock } from '../../agent/plain-clock.js';
import { Positions } from '../../agent/positions.js';
import { removeDir, tempDir, waitFor } from '../helpers/server.js';

const dir = tempDir('narvi-agent-positions-');
afterAll(() => removeDir(dir));

describe('positions', () => {
  it('round-trips offsets, identities and plain-line anchors', async () => {
    const path = join(dir, 'rt.yaml');
    const p = await Positions.load(path, silentLogger);
    const a = p.track('/logs/a.log', 2049n, 18446744073709551557n, 0);
    a.ack(0, 1234);
    const b = p.track('/logs/b.log', 2049n, 7n, 0);
    b.clock = new PlainClock();
    b.clock.tsFor(0, 5_000_000_000n);
    b.clock.coveredTo = 99;
    await p.save();
    const q = await Positions.load(path, silentLogger);
    expect(q.get(2049n, 18446744073709551557n)!.acked).toBe(1234);
    expect(q.get(2049n, 18446744073709551557n)!.path).toBe('/logs/a.log');
    const qb = q.get(2049n, 7n)!;
    expect(qb.clock!.coveredTo).toBe(99);
    expect(qb.clock!.anchors).toEqual([[0, 5_000_000_000n]]);
  });

  it('ignores acknowledgements from before a truncation and reports when a finished file is fully acknowledged', async () => {
    const p = await Positions.load(join(dir, 'gen.yaml'), silentLogger);
    const fp = p.track('/x', 1n, 2n, 0);
    fp.ack(0, 500);
    fp.truncated();
    fp.ack(0, 800);
    expect(fp.acked).toBe(0);
    fp.ack(1, 40);
    expect(fp.acked).toBe(40);
    let done = false;
    fp.finalOffset = 100;
    fp.onDone = () => (done = true);
    fp.ack(1, 99);
    expect(done).toBe(false);
    fp.ack(1, 100);
    expect(done).toBe(true);
  });

  it('loads a positions file written in block-style YAML by an earlier version', async () => {
    const path = join(dir, 'old.yaml');
    writeFileSync(path, '# narvi agent positions\npositions:\n  - path: /logs/a.log\n    dev: "2049"\n    ino: "77"\n    offset: 120\n');
    const p = await Positions.load(path, silentLogger);
    expect(p.get(2049n, 77n)).toMatchObject({ path: '/logs/a.log', acked: 120, done: false, headLen: 0 });
    expect(p.existed).toBe(true);
    expect(p.isDurable('/logs/a.log')).toBe(true);
  });

  it('starts empty from a damaged file instead of failing', async () => {
    const path = join(dir, 'bad.yaml');
    writeFileSync(path, 'positions: [ {{{');
    const p = await Positions.load(path, silentLogger);
    expect(p.all()).toEqual([]);
  });

  it('loads what it can from every odd shape a damaged file takes, and never throws', async () => {
    const shapes = ['positions: {}', 'positions: 5', 'positions: "x"', '5', '[1, 2]', 'just words', '{"positions": null}', 'positions:\n  - 7\n  - null\n  - [1]\n  - {path: 3}\n  - {path: /a, dev: x, ino: 1, offset: 1}', '\u0000\u0001binary'];
    for (const [i, text] of shapes.entries()) {
      const path = join(dir, `shape-${i}.yaml`);
      writeFileSync(path, text);
      const p = await Positions.load(path, silentLogger);
      expect(p.all(), text).toEqual([]);
      // The file was there: files without a record are new and read from their start.
      expect(p.existed).toBe(true);
    }
  });

  it('restarts a file whose offset is negative, fractional or not a number at 0, keeping its identity', async () => {
    const path = join(dir, 'offsets.yaml');
    const rec = (ino: number, offset: unknown, extra = {}) => JSON.stringify({ path: `/l/${ino}.log`, dev: '1', ino: String(ino), offset, done: true, ...extra });
    writeFileSync(path, `{"positions":[\n${[rec(1, -40), rec(2, 10.5), rec(3, 'abc'), rec(4, null), rec(5, 1e300), rec(6, '77'), rec(7, 120, { clock: { covered_to: 5, anchors: [[0, 'zz']] } })].join(',\n')}\n]}\n`);
    const p = await Positions.load(path, silentLogger);
    for (const ino of [1, 2, 3, 4, 5]) {
      const fp = p.get(1n, BigInt(ino))!;
      expect(fp, `ino ${ino}`).toBeDefined();
      expect(fp.acked).toBe(0);
      expect(fp.done).toBe(false);
    }
    expect(p.get(1n, 6n)!.acked).toBe(77);
    expect(p.get(1n, 6n)!.done).toBe(true);
    // A clock that does not parse is dropped, the offset it came with kept.
    expect(p.get(1n, 7n)).toMatchObject({ acked: 120, clock: undefined });
  });

  it('salvages every whole record of a file cut short', async () => {
    const path = join(dir, 'cut.yaml');
    const p = await Positions.load(path, silentLogger);
    for (let i = 1; i <= 5; i++) p.track(`/l/${i}.log`, 3n, BigInt(i), 0).ack(0, i * 100);
    await p.save();
    const full = readFileSync(path, 'utf8');
    // Cut inside the fourth record.
    const cut = full.slice(0, full.indexOf('"ino":"4"') + 4);
    writeFileSync(path, cut);
    const q = await Positions.load(path, silentLogger);
    expect(q.all().map((f) => [Number(f.ino), f.acked]).sort()).toEqual([[1, 100], [2, 200], [3, 300]]);
  });

  it('is never torn by kill -9 in the middle of saving', async () => {
    const path = join(dir, 'atomic.yaml');
    const mod = pathToFileURL(resolve(import.meta.dirname, '../../dist/agent/positions.js')).href;
    const logMod = pathToFileURL(resolve(import.meta.dirname, '../../dist/src/model/logger.js')).href;
    // A writer saving 300 positions in a tight loop, every record carrying the round number.
    const script = `
      const { Positions } = await import(${JSON.stringify(mod)});
      const { silentLogger } = await import(${JSON.stringify(logMod)});
      const p = await Positions.load(${JSON.stringify(path)}, silentLogger);
      const fps = Array.from({ length: 300 }, (_, i) => p.track('/var/log/pods/ns_pod-' + i + '_uid/c/0.log', 1n, BigInt(i + 1), 0));
      for (let round = 1; ; round++) {
        for (const fp of fps) fp.acked = round;
        await p.save();
        process.stdout.write('saved ' + round + '\\n');
      }`;
    for (let attempt = 0; attempt < 4; attempt++) {
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      const exited = new Promise((res) => child.once('exit', res));
      const target = 3 + attempt * 7;
      await waitFor(() => (out.match(/saved/g)?.length ?? 0) >= target, `writer to save ${target} times`);
      child.kill('SIGKILL');
      await exited;
      const last = Number(/saved (\d+)\n$/.exec(out)?.[1] ?? 0);
      const doc = YAML.parse(readFileSync(path, 'utf8')) as { positions: { offset: number }[] };
      expect(doc.positions).toHaveLength(300);
      const rounds = new Set(doc.positions.map((r) => r.offset));
      expect(rounds.size).toBe(1);
      // Either the last reported save or one that completed after it but before the kill landed.
      expect([...rounds][0]).toBeGreaterThanOrEqual(last);
      expect((await Positions.load(path, silentLogger)).all()).toHaveLength(300);
    }
    expect(existsSync(path)).toBe(true);
  });
});
