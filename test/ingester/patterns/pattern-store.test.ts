import { describe, expect, it } from 'vitest';
import { PatternAccumulator, PatternStore } from '../../../src/ingester/patterns/pattern-store.js';
import type { IngestEntry } from '../../../src/model/entry.js';

const NOW = 1_699_999_980_000; // a multiple of 60 s
const all = () => true;

function entry(ms: number, line: string, metadata?: Record<string, string>): IngestEntry {
  return { ts: BigInt(ms) * 1_000_000n, line: Buffer.from(line), metadata };
}

function store(over: Partial<ConstructorParameters<typeof PatternStore>[0]> = {}): PatternStore {
  return new PatternStore({ maxClusters: 300, maxStreams: 1000, retainForMs: 3 * 3_600_000, ...over });
}

describe('PatternStore', () => {
  it('sums one pattern over the streams a selector matches, per step-aligned time, most frequent first', () => {
    const s = store();
    const t = NOW - 600_000; // a multiple of 60 s
    s.observe('t', '{app="a"}', { app: 'a' }, [entry(t + 1_000, 'user a1 logged in'), entry(t + 15_000, 'user a2 logged in'), entry(t + 61_000, 'disk full on sda')], NOW);
    s.observe('t', '{app="b"}', { app: 'b' }, [entry(t + 59_000, 'user b1 logged in'), entry(t + 70_000, 'user b2 logged in'), entry(t + 130_000, 'user b3 logged in')], NOW);
    s.observe('t', '{app="c"}', { app: 'c' }, [entry(t, 'user c1 logged in'), entry(t + 1, 'user c2 logged in')], NOW);
    s.observe('other', '{app="a"}', { app: 'a' }, [entry(t, 'user x logged in'), entry(t, 'user y logged in')], NOW);
    const got = s.query('t', (l) => l.app !== 'c', t, t + 180_000, 60_000);
    expect(got).toEqual([
      { pattern: 'user <_> logged in', samples: [[t, 3], [t + 60_000, 1], [t + 120_000, 1]] },
      { pattern: 'disk full on sda', samples: [[t + 60_000, 1]] },
    ]);
    // [start, end): the bucket at t + 120 s is outside an end of t + 120 s.
    expect(s.query('t', (l) => l.app === 'b', t + 60_000, t + 120_000, 10_000)).toEqual([{ pattern: 'user <_> logged in', samples: [[t + 70_000, 1]] }]);
    expect(s.query('nobody', all, 0, NOW * 2, 10_000)).toEqual([]);
  });

  it('keeps levels apart and reports them', () => {
    const s = store();
    const t = NOW - 60_000;
    s.observe('t', '{app="a"}', { app: 'a' }, [entry(t, 'took 5ms', { detected_level: 'info' }), entry(t, 'took 7ms', { detected_level: 'info' }), entry(t, 'took 9ms', { detected_level: 'error' }), entry(t, 'took 1ms', { detected_level: 'nonsense' })], NOW);
    expect(s.query('t', all, t, NOW, 10_000)).toEqual([
      { pattern: 'took <_>', level: 'info', samples: [[t, 2]] },
      { pattern: 'took 1ms', samples: [[t, 1]] },
      { pattern: 'took 9ms', level: 'error', samples: [[t, 1]] },
    ]);
  });

  it('ignores entries older than the retention, drops expired counts and empty streams', () => {
    const s = store({ retainForMs: 3_600_000 });
    s.observe('t', '{app="a"}', { app: 'a' }, [entry(NOW - 3_600_001, 'ancient line'), entry(NOW - 3_000_000, 'recent line')], NOW);
    expect(s.query('t', all, 0, NOW, 10_000).map((p) => p.pattern)).toEqual(['recent line']);
    s.prune(NOW + 600_001);
    expect(s.query('t', all, 0, NOW * 2, 10_000)).toEqual([]);
    expect(s.streamCount).toBe(0);
  });

  it('skips lines past the length limit without decoding them', () => {
    const s = store({ drain: { maxLineBytes: 10 } });
    s.observe('t', '{app="a"}', { app: 'a' }, [entry(NOW, 'é'.repeat(6)), entry(NOW, 'short one')], NOW);
    expect(s.skipped).toBe(1);
    expect(s.clusterCount()).toBe(1);
  });

  it('holds at most max_streams streams and max_clusters per stream under many streams of garbage', () => {
    const s = store({ maxStreams: 20, maxClusters: 10 });
    let seed = 1;
    const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
    for (let i = 0; i < 200; i++) {
      const entries: IngestEntry[] = [];
      for (let j = 0; j < 50; j++) entries.push(entry(NOW - j, `${rnd().toString(36)} ${rnd().toString(36)}`));
      s.observe('t', `{i="${i}"}`, { i: String(i) }, entries, NOW);
      expect(s.streamCount).toBeLessThanOrEqual(20);
      expect(s.clusterCount()).toBeLessThanOrEqual(20 * 10);
    }
    // The most recent streams are the ones kept.
    expect(s.query('t', (l) => l.i === '199', 0, NOW * 2, 10_000).length).toBeGreaterThan(0);
    expect(s.query('t', (l) => l.i === '0', 0, NOW * 2, 10_000)).toEqual([]);
  });
});

describe('PatternAccumulator', () => {
  it('sums series from several ingesters by pattern and level', () => {
    const acc = new PatternAccumulator();
    acc.add({ pattern: 'a <_>', samples: [[10_000, 1], [20_000, 2]] });
    acc.add({ pattern: 'a <_>', samples: [[20_000, 3]] });
    acc.add({ pattern: 'a <_>', level: 'info', samples: [[20_000, 1]] });
    acc.add({ pattern: 'b', samples: [[0, 7]] });
    expect(acc.result()).toEqual([
      { pattern: 'b', samples: [[0, 7]] },
      { pattern: 'a <_>', samples: [[10_000, 1], [20_000, 5]] },
      { pattern: 'a <_>', level: 'info', samples: [[20_000, 1]] },
    ]);
  });
});
