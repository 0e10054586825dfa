import { appendFileSync, copyFileSync, mkdirSync, readFileSync, renameSync, rmSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { StaticTargets } from '../../agent/static-targets.js';
import { removeDir, tempDir, waitFor } from '../helpers/server.js';
import { startTailing } from './tail-harness.js';

/**
 * What the agent finds after a restart, file by file: the tailer, files and positions are real; the sink
 * acknowledges at once. Each case stops the agent, changes the files as a rotation would while it is down,
 * starts it again and checks that exactly the unread lines arrive, in order.
 */
const root = tempDir('narvi-agent-recovery-');
afterAll(() => removeDir(root));

let n = 0;
function setup() {
  const dir = join(root, `r${++n}`);
  mkdirSync(dir, { recursive: true });
  const source = new StaticTargets([{ paths: [join(dir, '*.log')], labels: { job: 'test' }, format: 'plain' }]);
  return { dir, source, pos: join(dir, 'positions.yaml'), f: join(dir, 'app.log') };
}
const lines = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `line ${from + i} ${'x'.repeat(20)}`);
const text = (ls: string[]) => ls.map((l) => l + '\n').join('');

async function readOnce(source: StaticTargets, pos: string, want: number) {
  const t = await startTailing([source], pos);
  await waitFor(() => t.sink.got.length >= want, `${want} lines`);
  return t;
}

/** Everything delivered after a restart, once `want` lines arrived and nothing more came for a few polls. */
async function restartAndCollect(source: StaticTargets, pos: string, want: number) {
  const t = await startTailing([source], pos);
  await waitFor(() => t.sink.got.length >= want, `${want} lines after restart`);
  // Nothing beyond: the tailer has looked at the path several times since.
  const seen = t.sink.got.length;
  let polls = 0;
  await waitFor(() => ++polls >= 6, 'a few more polls');
  expect(t.sink.got.length).toBe(seen);
  return t;
}

describe('recovery after the agent was down', () => {
  it('finishes the saved file, then every rotation made meanwhile, oldest first (two rotations in one downtime)', async () => {
    const { source, pos, f } = setup();
    writeFileSync(f, text(lines(1, 10)));
    await (await readOnce(source, pos, 10)).stop();
    appendFileSync(f, text(lines(11, 20)));
    renameSync(f, f + '.20240101-000001');
    writeFileSync(f, text(lines(21, 30)));
    renameSync(f, f + '.20240101-000002');
    writeFileSync(f, text(lines(31, 40)));
    const t = await restartAndCollect(source, pos, 30);
    expect(t.sink.lines()).toEqual(lines(11, 40));
    await t.stop();
  });

  it('reads a rotated file that was compressed to .gz meanwhile from its saved offset, and skips a .gz copy of a file already read', async () => {
    const { dir, source, pos, f } = setup();
    writeFileSync(f, text(lines(1, 10)));
    await (await readOnce(source, pos, 10)).stop();
    appendFileSync(f, text(lines(11, 20)));
    const r1 = f + '.20240101-000001';
    renameSync(f, r1);
    writeFileSync(f, text(lines(21, 30)));
    const r2 = f + '.20240101-000002';
    renameSync(f, r2);
    writeFileSync(f, text(lines(31, 40)));
    // kubelet compresses all but the newest rotation: write .gz.tmp, rename, delete the original.
    writeFileSync(r1 + '.gz.tmp', gzipSync(readFileSync(r1)));
    renameSync(r1 + '.gz.tmp', r1 + '.gz');
    unlinkSync(r1);
    let t = await restartAndCollect(source, pos, 30);
    expect(t.sink.lines()).toEqual(lines(11, 40));
    await t.stop();

    // Next downtime: r2 (fully read) gets compressed, but the uncompressed original is still there too.
    writeFileSync(r2 + '.gz', gzipSync(readFileSync(r2)));
    appendFileSync(f, text(lines(41, 45)));
    t = await restartAndCollect(source, pos, 5);
    expect(t.sink.lines()).toEqual(lines(41, 45));
    await t.stop();
    // The finished record now names the compressed file (matched by its first bytes).
    const saved = YAML.parse(readFileSync(pos, 'utf8')) as { positions: { file?: string; gzip?: boolean; done?: boolean }[] };
    expect(saved.positions.find((p) => p.file === r1 + '.gz')).toMatchObject({ gzip: true });
    void dir;
  });

  it('after copytruncate while down, finishes the copy from the saved offset and reads the truncated file from 0', async () => {
    const { dir, source, pos, f } = setup();
    writeFileSync(f, text(lines(1, 10)));
    await (await readOnce(source, pos, 10)).stop();
    appendFileSync(f, text(lines(11, 20)));
    copyFileSync(f, join(dir, 'app.log.1'));
    truncateSync(f, 0);
    // It grows back past the saved offset: size alone cannot tell it was truncated.
    appendFileSync(f, text(lines(21, 40)));
    const t = await restartAndCollect(source, pos, 30);
    expect(t.sink.lines()).toEqual(lines(11, 40));
    await t.stop();
  });

  it('counts what was lost when the saved file was deleted, with the byte range, and still reads the newer rotations', async () => {
    const { source, pos, f } = setup();
    writeFileSync(f, text(lines(1, 10)));
    await (await readOnce(source, pos, 10)).stop();
    // The state a kill -9 leaves when lines 6-10 were read but not yet acknowledged: offset behind the size seen.
    const saved = YAML.parse(readFileSync(pos, 'utf8')) as { positions: { offset: number; size?: number }[] };
    const size = saved.positions[0]!.offset;
    const half = text(lines(1, 5)).length;
    saved.positions[0]!.offset = half;
    saved.positions[0]!.size = size;
    writeFileSync(pos, YAML.stringify(saved));
    appendFileSync(f, text(lines(11, 20)));
    renameSync(f, f + '.20240101-000001');
    writeFileSync(f, text(lines(21, 30)));
    renameSync(f, f + '.20240101-000002');
    writeFileSync(f, text(lines(31, 40)));
    rmSync(f + '.20240101-000001');
    const t = await restartAndCollect(source, pos, 20);
    expect(t.sink.lines()).toEqual(lines(21, 40));
    expect((await t.metrics.lostFiles.get()).values[0]!.value).toBe(1);
    // Known unread: from the acknowledged offset to the largest size seen (lines 11-20 grew after the last look).
    expect((await t.metrics.lostBytes.get()).values[0]!.value).toBe(size - half);
    await t.stop();
  });

  it('does not take a new file that reuses a deleted file\'s inode for the old one', async () => {
    const { source, pos, f } = setup();
    writeFileSync(f, text(lines(1, 10)));
    await (await readOnce(source, pos, 10)).stop();
    // Same inode number is likely after unlink+create on most file systems; content differs either way.
    unlinkSync(f);
    writeFileSync(f, text(lines(101, 130)));
    const t = await restartAndCollect(source, pos, 30);
    expect(t.sink.lines()).toEqual(lines(101, 130));
    await t.stop();
  });

  it('on the very first start reads current files from 0 but not their old rotations; a path that appears later is read whole', async () => {
    const { dir, source, pos, f } = setup();
    writeFileSync(f + '.1', text(lines(1, 5)));
    writeFileSync(f, text(lines(6, 10)));
    let t = await restartAndCollect(source, pos, 5);
    expect(t.sink.lines()).toEqual(lines(6, 10));
    await t.stop();
    // While down, a new file appears and rotates before the agent is back.
    const g = join(dir, 'new.log');
    writeFileSync(g, text(lines(11, 15)));
    renameSync(g, g + '.1');
    writeFileSync(g, text(lines(16, 20)));
    t = await restartAndCollect(source, pos, 10);
    expect(t.sink.lines()).toEqual(lines(11, 20));
    await t.stop();
  });

  it('keeps the record of every file it reads durable before reading it (positions saved before the first byte)', async () => {
    const { source, pos, f } = setup();
    writeFileSync(f, text(lines(1, 3)));
    const t = await readOnce(source, pos, 3);
    // No periodic save ran (the harness saves only at stop): the new file's record is on disk all the same.
    const saved = YAML.parse(readFileSync(pos, 'utf8')) as { positions: { path: string }[] };
    expect(saved.positions.map((p) => p.path)).toEqual([f]);
    await t.manager.stop();
  });
});
