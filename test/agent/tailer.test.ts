import { appendFileSync, closeSync, copyFileSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { StaticTargets } from '../../agent/static-targets.js';
import { removeDir, tempDir, waitFor } from '../helpers/server.js';
import { startTailing } from './tail-harness.js';

const root = tempDir('narvi-agent-tail-');
afterAll(() => removeDir(root));

let n = 0;
function setup() {
  const dir = join(root, `t${++n}`);
  mkdirSync(dir, { recursive: true });
  const source = new StaticTargets([{ paths: [join(dir, '*.log')], labels: { job: 'test' }, format: 'plain' }]);
  return { dir, source, pos: join(dir, 'positions.yaml') };
}
const lines = (from: number, to: number, p = 'line') => Array.from({ length: to - from + 1 }, (_, i) => `${p} ${from + i}`);
const text = (ls: string[]) => ls.map((l) => l + '\n').join('');


describe('tailing real files', () => {
  it('follows a file as it grows, labelled with the target labels and filename', async () => {
    const { dir, source, pos } = setup();
    const f = join(dir, 'app.log');
    writeFileSync(f, text(lines(1, 3)));
    const t = await startTailing([source], pos);
    await waitFor(() => t.sink.got.length === 3, '3 lines');
    appendFileSync(f, text(lines(4, 6)));
    appendFileSync(f, 'partial');
    await waitFor(() => t.sink.got.length === 6, '6 lines');
    expect(t.sink.lines()).toEqual(lines(1, 6));
    expect(t.sink.got[0]!.labels).toEqual({ job: 'test', filename: f });
    // Timestamps strictly increase within the file.
    for (let i = 1; i < t.sink.got.length; i++) expect(t.sink.got[i]!.ts > t.sink.got[i - 1]!.ts).toBe(true);
    // The unterminated line waits for its newline.
    appendFileSync(f, ' done\n');
    await waitFor(() => t.sink.got.length === 7, 'the completed line');
    expect(t.sink.got[6]!.line).toBe('partial done');
    await t.stop();
  });

  it('finishes the old file through its descriptor on rename-then-create rotation, late writes included', async () => {
    const { dir, source, pos } = setup();
    const f = join(dir, 'app.log');
    const fd = openSync(f, 'a');
    writeSync(fd, text(lines(1, 50)));
    const t = await startTailing([source], pos);
    await waitFor(() => t.sink.got.length === 50, 'first 50 lines');
    writeSync(fd, text(lines(51, 60)));
    renameSync(f, f + '.1');
    // The writer has not reopened yet: these land in the renamed file.
    writeSync(fd, text(lines(61, 70)));
    closeSync(fd);
    writeFileSync(f, text(lines(71, 80)));
    await waitFor(() => t.sink.got.length >= 80, '80 lines');
    expect(t.sink.lines()).toEqual(lines(1, 80));
    // The rotated file is let go once quiet; its record stays, finished, while the file exists (so a restart
    // does not read it again).
    await waitFor(() => t.positions.all().filter((p) => !p.done).length === 1, 'rotated file released');
    expect(t.positions.all().find((p) => p.done)?.file).toBe(f + '.1');
    expect((await t.metrics.rotations.get()).values.find((v) => v.labels.kind === 'rename')?.value).toBe(1);
    await t.stop();
  });

  it('restarts at 0 after copytruncate', async () => {
    const { dir, source, pos } = setup();
    const f = join(dir, 'app.log');
    writeFileSync(f, text(lines(1, 20)));
    const t = await startTailing([source], pos);
    await waitFor(() => t.sink.got.length === 20, '20 lines');
    copyFileSync(f, join(dir, 'app.log.1'));
    truncateSync(f, 0);
    appendFileSync(f, text(lines(21, 25)));
    await waitFor(() => t.sink.got.length === 25, '25 lines');
    expect(t.sink.lines()).toEqual(lines(1, 25));
    expect((await t.metrics.rotations.get()).values.find((v) => v.labels.kind === 'truncate')?.value).toBe(1);
    await t.stop();
  });

  it('restarts at 0 when the file shrinks below the read offset', async () => {
    const { dir, source, pos } = setup();
    const f = join(dir, 'app.log');
    writeFileSync(f, text(lines(1, 100, 'long line number')));
    const t = await startTailing([source], pos, { watch: false });
    await waitFor(() => t.sink.got.length === 100, '100 lines');
    writeFileSync(f, text(['fresh 1', 'fresh 2']));
    await waitFor(() => t.sink.got.length === 102, 'the rewritten lines');
    expect(t.sink.lines().slice(100)).toEqual(['fresh 1', 'fresh 2']);
    await t.stop();
  });

  it('reads a deleted file to its end, then lets it go', async () => {
    const { dir, source, pos } = setup();
    const f = join(dir, 'gone.log');
    writeFileSync(f, text(lines(1, 5)));
    const t = await startTailing([source], pos);
    await waitFor(() => t.sink.got.length === 5, '5 lines');
    appendFileSync(f, text(lines(6, 8)) + 'no newline');
    rmSync(f);
    await waitFor(() => t.sink.got.length === 9, 'all lines including the unterminated one');
    expect(t.sink.lines()).toEqual([...lines(1, 8), 'no newline']);
    await waitFor(() => t.positions.all().length === 0, 'position removed');
    await t.stop();
  });

  it('picks up new files matching the glob', async () => {
    const { dir, source, pos } = setup();
    const t = await startTailing([source], pos);
    writeFileSync(join(dir, 'one.log'), text(lines(1, 2, 'one')));
    await waitFor(() => t.sink.got.length === 2, 'first file');
    writeFileSync(join(dir, 'two.log'), text(lines(1, 2, 'two')));
    writeFileSync(join(dir, 'ignored.txt'), 'nope\n');
    await waitFor(() => t.sink.got.length === 4, 'second file');
    expect(t.sink.lines().sort()).toEqual([...lines(1, 2, 'one'), ...lines(1, 2, 'two')].sort());
    await t.stop();
  });

  it('never crashes on invalid UTF-8: bad bytes become U+FFFD', async () => {
    const { dir, source, pos } = setup();
    const f = join(dir, 'bin.log');
    writeFileSync(f, Buffer.concat([Buffer.from('ok\n'), Buffer.from([0xc3, 0x28, 0xff, 0x0a]), Buffer.from('après\n')]));
    const t = await startTailing([source], pos);
    await waitFor(() => t.sink.got.length === 3, '3 lines');
    expect(t.sink.lines()).toEqual(['ok', '\ufffd(\ufffd', 'après']);
    await t.stop();
  });

  it('truncates lines over limits.max_line_size and counts them', async () => {
    const { dir, source, pos } = setup();
    const f = join(dir, 'long.log');
    writeFileSync(f, 'short\n' + 'x'.repeat(10_000) + '\n' + 'after\n');
    const t = await startTailing([source], pos, { maxLineSize: 100 });
    await waitFor(() => t.sink.got.length === 3, '3 lines');
    expect(t.sink.lines()).toEqual(['short', 'x'.repeat(100), 'after']);
    expect((await t.metrics.truncatedLines.get()).values[0]!.value).toBe(1);
    await t.stop();
  });

  it('resumes from the saved position after a restart, with the same timestamps for re-read plain lines', async () => {
    const { dir, source, pos } = setup();
    const f = join(dir, 'app.log');
    writeFileSync(f, text(lines(1, 10)));
    const t1 = await startTailing([source], pos);
    await waitFor(() => t1.sink.got.length === 10, '10 lines');
    const firstTs = t1.sink.got.map((g) => g.ts);
    await t1.stop();
    appendFileSync(f, text(lines(11, 15)));
    const t2 = await startTailing([source], pos);
    await waitFor(() => t2.sink.got.length === 5, '5 new lines');
    expect(t2.sink.lines()).toEqual(lines(11, 15));
    await t2.stop();
    // Simulate a crash after the server stored lines 1-10 but before their position was saved.
    const p = YAML.parse(readFileSync(pos, 'utf8')) as { positions: { offset: number }[] };
    p.positions[0]!.offset = 0;
    writeFileSync(pos, YAML.stringify(p));
    const t3 = await startTailing([source], pos);
    await waitFor(() => t3.sink.got.length === 15, 'all lines re-read');
    expect(t3.sink.got.slice(0, 10).map((g) => g.ts)).toEqual(firstTs);
    await t3.stop();
  });

  it('finishes a file that was rotated while the agent was down, from its saved offset', async () => {
    const { dir, source, pos } = setup();
    const f = join(dir, 'app.log');
    writeFileSync(f, text(lines(1, 10)));
    const t1 = await startTailing([source], pos);
    await waitFor(() => t1.sink.got.length === 10, '10 lines');
    await t1.stop();
    // While down: more lines, rotation, another rotation, and a new current file.
    appendFileSync(f, text(lines(11, 20)));
    renameSync(f, f + '.20240101-000001');
    writeFileSync(f, text(lines(21, 30)));
    renameSync(f, f + '.20240101-000002');
    writeFileSync(f, text(lines(31, 40)));
    const t2 = await startTailing([source], pos);
    await waitFor(() => t2.sink.got.length === 30, '30 lines');
    expect(t2.sink.lines()).toEqual(lines(11, 40));
    await t2.stop();
  });

  it('applies the pipeline: dropped lines still move the position', async () => {
    const { dir, source, pos } = setup();
    const f = join(dir, 'p.log');
    writeFileSync(f, 'level=info keep\nlevel=debug healthz\nlevel=error keep too\n');
    const t = await startTailing([source], pos, { pipeline: [{ type: 'drop', expression: /healthz/ }, { type: 'logfmt', labels: [['level', 'level']] }] });
    await waitFor(() => t.sink.got.length === 2, '2 lines');
    expect(t.sink.got.map((g) => [g.labels.level, g.line])).toEqual([['info', 'level=info keep'], ['error', 'level=error keep too']]);
    await waitFor(() => t.positions.all()[0]?.acked === 57, 'position at the end of the file');
    await t.stop();
  });
});
