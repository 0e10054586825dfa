import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { canonicalLabels, type Labels } from '../../../src/model/labels.js';
import type { LogEntry } from '../../../src/cli/client/log-entry.js';
import { DefaultPrinter } from '../../../src/cli/output/default-printer.js';
import type { LabelFilter } from '../../../src/cli/output/common-labels.js';
import { resolveTimeZone } from '../../../src/cli/output/time-format.js';

/** stdout and stderr into one transcript, so the order of notices and lines shows. */
function transcript() {
  let text = '';
  const sink = (tag: string) =>
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        for (const l of chunk.toString().split('\n').filter(Boolean)) text += `${tag}${l}\n`;
        cb();
      },
    });
  return { out: sink('out: '), err: sink('err: '), text: () => text };
}

const NONE: LabelFilter = { show: true, include: new Set(), exclude: new Set() };

function printer(filter: LabelFilter = NONE, quiet = false) {
  const t = transcript();
  const p = new DefaultPrinter({ mode: 'default', quiet, filter, tz: resolveTimeZone('UTC'), out: t.out, err: t.err, color: false });
  return { p, text: t.text };
}

const S = 1_000_000_000n;
const T0 = 1_700_000_000n * S;
const e = (labels: Labels, sec: number, line: string): LogEntry => ({ labels, key: canonicalLabels(labels), ts: T0 + BigInt(sec) * S, line });

describe('DefaultPrinter: the common labels follow the streams seen so far', () => {
  const a = { app: 'a', env: 'prod' };
  const b = { app: 'a' };

  it('announces the narrower set again, before the first line of the stream that lacks a label', async () => {
    const { p, text } = printer();
    await p.print([e(a, 1, 'one'), e(a, 2, 'two')]);
    await p.print([e(b, 3, 'three'), e(a, 4, 'four')]);
    await p.finish();
    const got = text().split('\n');
    expect(got[0]).toBe('err: Common labels: {app="a", env="prod"}');
    expect(got[1]).toMatch(/^out: \S+ one$/);
    expect(got[2]).toMatch(/^out: \S+ two$/);
    expect(got[3]).toBe('err: Common labels: {app="a"}');
    // From here on, the stream with env shows it; the one without shows nothing in the label column.
    expect(got[4]).toMatch(/^out: \S+ {14}three$/);
    expect(got[5]).toMatch(/^out: \S+ \{env="prod"\} four$/);
    expect(got).toHaveLength(7);
  });

  it('announces "{}" when nothing is common any more, and nothing while the set holds', async () => {
    const { p, text } = printer();
    await p.print([e(a, 1, 'one')]);
    await p.print([e(a, 2, 'two')]);
    await p.print([e({ job: 'x' }, 3, 'three')]);
    await p.print([e({ job: 'y' }, 4, 'four')]);
    const notices = text().split('\n').filter((l) => l.startsWith('err: '));
    expect(notices).toEqual(['err: Common labels: {app="a", env="prod"}', 'err: Common labels: {}']);
  });

  it('says nothing when a new stream agrees with the common set', async () => {
    const { p, text } = printer();
    await p.print([e({ app: 'a', pod: '1' }, 1, 'one'), e({ app: 'a', pod: '2' }, 2, 'two')]);
    await p.print([e({ app: 'a', pod: '3' }, 3, 'three')]);
    expect(text().split('\n').filter((l) => l.startsWith('err: '))).toEqual(['err: Common labels: {app="a"}']);
    expect(text()).toMatch(/\{pod="3"\} three/);
  });

  it('re-announces only what is announced: an excluded label dropping out changes nothing shown', async () => {
    const { p, text } = printer({ show: true, include: new Set(), exclude: new Set(['env']) });
    await p.print([e(a, 1, 'one')]);
    await p.print([e(b, 2, 'two')]);
    expect(text().split('\n').filter((l) => l.startsWith('err: '))).toEqual(['err: Common labels: {app="a"}']);
  });

  it('prints no notice with --quiet, yet still shows the labels that are no longer common', async () => {
    const { p, text } = printer(NONE, true);
    await p.print([e(a, 1, 'one')]);
    await p.print([e(b, 2, 'two'), e(a, 3, 'three')]);
    expect(text()).not.toContain('err: ');
    expect(text()).toMatch(/\{env="prod"\} three/);
  });
});
