import { joinTokens, tokenize, Tokens } from './tokenize.js';

/**
 * A Drain log-pattern miner for one stream (He et al., "Drain: An Online Log Parsing Approach with Fixed
 * Depth Tree", ICWS 2017). A line's tokens walk a tree whose first layer is the token count and whose
 * next layers are the leading tokens (a token holding a digit goes down the `<_>` branch); at the leaf,
 * the cluster most similar to the line (share of positions with the same token) takes the line if the
 * similarity reaches `simTh`, and every position where they differ becomes `<_>`; otherwise the line
 * starts a cluster of its own. Memory is bounded: at most `maxClusters` clusters (the least recently
 * used is evicted, with the tree nodes only it needed), lines longer than `maxLineBytes` or with more
 * than `maxTokens` tokens are skipped, and each cluster keeps one count per 10 s bucket.
 */
export interface DrainOptions {
  maxClusters: number;
  /** Tree depth as Drain counts it (root and token-count layers included): depth − 2 leading tokens. */
  depth: number;
  simTh: number;
  /** Children per tree node; past it, new tokens share the `<_>` branch. */
  maxChildren: number;
  maxLineBytes: number;
  maxTokens: number;
}

/**
 * Loki's pattern ingester's values (cluster cap, similarity threshold, children per node, line and token
 * limits) except the depth: Loki walks up to 28 leading tokens, so `user alice …` and `user bob …` stay
 * apart until a node has 15 children; the published Drain's depth 4 (one leading token, then similarity)
 * merges them at once, and a line costs fewer tree steps.
 */
export const DRAIN_DEFAULTS: DrainOptions = { maxClusters: 300, depth: 4, simTh: 0.3, maxChildren: 15, maxLineBytes: 3000, maxTokens: 80 };

export const PARAM = '<_>';
/** Clusters one line is compared with at most (those of its leaf matched or made last). */
export const MAX_CANDIDATES = 64;
/** Sample resolution: counts are kept per 10 s, as Loki's pattern ingester keeps them. */
export const BUCKET_MS = 10_000;

class Node {
  children: Map<string, Node> | null = null;
  clusters: Cluster[] | null = null;
  constructor(
    readonly parent: Node | null,
    readonly key: string,
  ) {}

  child(key: string): Node {
    const m = (this.children ??= new Map());
    let n = m.get(key);
    if (!n) m.set(key, (n = new Node(this, key)));
    return n;
  }
}

/** One level's tree: first layer indexed by token count. */
type LevelTree = (Node | undefined)[];

export class Cluster {
  /** Bucket start times (ms, ascending) and the lines counted in each. */
  readonly times: number[] = [];
  readonly counts: number[] = [];
  /** How many of `words` are `<_>`. */
  params = 0;
  /** Neighbours in the recency list (newer, older). */
  newer: Cluster | null = null;
  older: Cluster | null = null;
  constructor(
    readonly words: string[],
    readonly glue: Uint8Array,
    readonly level: string,
    readonly leaf: Node,
  ) {}

  pattern(): string {
    return joinTokens(this.words, this.glue);
  }

  count(bucket: number): void {
    const t = this.times;
    const last = t.length - 1;
    if (last >= 0 && t[last] === bucket) {
      this.counts[last]!++;
      return;
    }
    if (last < 0 || t[last]! < bucket) {
      t.push(bucket);
      this.counts.push(1);
      return;
    }
    // An older bucket (out-of-order entries): find it or insert it in place.
    let lo = 0;
    let hi = last;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (t[mid]! < bucket) lo = mid + 1;
      else hi = mid;
    }
    if (t[lo] === bucket) this.counts[lo]!++;
    else {
      t.splice(lo, 0, bucket);
      this.counts.splice(lo, 0, 1);
    }
  }

  /** Drops buckets before `cutoff`; true when none is left. */
  dropBefore(cutoff: number): boolean {
    let i = 0;
    while (i < this.times.length && this.times[i]! < cutoff) i++;
    if (i > 0) {
      this.times.splice(0, i);
      this.counts.splice(0, i);
    }
    return this.times.length === 0;
  }
}

/** A copy that does not keep the whole line alive (V8 slices of 13+ characters point into their parent). */
function own(s: string): string {
  return s.length < 13 ? s : Buffer.from(s, 'utf8').toString('utf8');
}

export type TrainOutcome = 'matched' | 'created' | 'skipped';

export class Drain {
  /** Recency list: `newest` is the last cluster matched or made, `oldest` the next to evict. */
  private newest: Cluster | null = null;
  private oldest: Cluster | null = null;
  private count = 0;
  private trees = new Map<string, LevelTree>();
  private readonly tokens: Tokens;
  private readonly leafDepth: number;
  /** Words of the cluster search returned that equal the line's (beside its `<_>`). */
  private bestSame = 0;

  constructor(readonly opts: DrainOptions = DRAIN_DEFAULTS) {
    if (opts.depth < 3) throw new Error('drain depth must be at least 3');
    this.leafDepth = opts.depth - 2;
    this.tokens = new Tokens(opts.maxTokens);
  }

  get size(): number {
    return this.count;
  }

  /** Clusters, most recently used first. */
  *all(): IterableIterator<Cluster> {
    for (let c = this.newest; c; c = c.older) yield c;
  }

  private unlink(c: Cluster): void {
    if (c.newer) c.newer.older = c.older;
    else this.newest = c.older;
    if (c.older) c.older.newer = c.newer;
    else this.oldest = c.newer;
    c.newer = c.older = null;
  }

  private pushNewest(c: Cluster): void {
    c.older = this.newest;
    c.newer = null;
    if (this.newest) this.newest.newer = c;
    this.newest = c;
    this.oldest ??= c;
  }

  /** Puts a line into its cluster and counts it in the 10 s bucket of `tsMs`. */
  train(line: string, tsMs: number, level = ''): TrainOutcome {
    if (line.length > this.opts.maxLineBytes) return 'skipped';
    const tk = this.tokens;
    if (!tokenize(line, tk) || tk.count === 0) return 'skipped';
    const bucketMs = bucketOf(tsMs);
    let tree = this.trees.get(level);
    if (!tree) this.trees.set(level, (tree = []));
    const found = this.search(tree, tk);
    if (found) {
      // Some constant differs from the line: it becomes <_> (when all matched, search already knows).
      if (this.bestSame !== found.words.length - found.params) {
        const w = found.words;
        for (let i = 0; i < w.length; i++) {
          if (w[i] !== PARAM && !tk.is(i, w[i]!)) {
            w[i] = PARAM;
            found.params++;
          }
        }
      }
      found.count(bucketMs);
      // The leaf's list ends with the clusters matched last: the ones search looks at first.
      const list = found.leaf.clusters!;
      if (list[list.length - 1] !== found) {
        list.splice(list.indexOf(found), 1);
        list.push(found);
      }
      if (this.newest !== found) {
        this.unlink(found);
        this.pushNewest(found);
      }
      return 'matched';
    }
    if (this.count >= this.opts.maxClusters && this.oldest) this.evict(this.oldest);
    const leaf = this.leafFor(tree, tk);
    const words = tk.words();
    for (let i = 0; i < words.length; i++) words[i] = own(words[i]!);
    const c = new Cluster(words, tk.glue.slice(0, tk.count), level, leaf);
    for (const w of words) if (w === PARAM) c.params++; // a line may hold a literal <_>
    (leaf.clusters ??= []).push(c);
    c.count(bucketMs);
    this.pushNewest(c);
    this.count++;
    return 'created';
  }

  private search(tree: LevelTree, tk: Tokens): Cluster | null {
    const n = tk.count;
    let node = tree[n];
    if (!node) return null;
    let depth = 1;
    for (let i = 0; i < n; i++) {
      if (depth >= this.leafDepth || depth === n) break;
      const next: Node | undefined = node.children?.get(tk.word(i)) ?? node.children?.get(PARAM);
      if (!next) return null;
      node = next;
      depth++;
    }
    const candidates = node.clusters;
    if (!candidates) return null;
    let best: Cluster | null = null;
    let bestSim = -1;
    let bestParams = -1;
    // Work per line is bounded: the MAX_CANDIDATES clusters of this leaf used last are compared, no more.
    const stop = Math.max(0, candidates.length - MAX_CANDIDATES);
    for (let k = candidates.length - 1; k >= stop; k--) {
      const c = candidates[k]!;
      // Not even every constant word equal could reach the threshold or beat the best so far: skip it,
      // or stop comparing once the words left could no longer get it there.
      const need = (bestSim > this.opts.simTh ? bestSim : this.opts.simTh) * n - 1e-9; // ε: ties still count
      let left = n - c.params;
      if (left < need) continue;
      let same = 0;
      const w = c.words;
      for (let i = 0; i < n && same + left >= need; i++) {
        const word = w[i]!;
        if (word === PARAM) continue;
        left--;
        if (tk.is(i, word)) same++;
      }
      if (same + left < need) continue;
      const params = c.params;
      const sim = same / n;
      if (sim > bestSim || (sim === bestSim && params > bestParams)) {
        best = c;
        bestSim = sim;
        bestParams = params;
        this.bestSame = same;
      }
    }
    return bestSim >= this.opts.simTh ? best : null;
  }

  /** The leaf a new cluster of these tokens hangs from, creating the path (Drain's tree update). */
  private leafFor(tree: LevelTree, tk: Tokens): Node {
    const n = tk.count;
    let node = (tree[n] ??= new Node(null, String(n)));
    let depth = 1;
    const max = this.opts.maxChildren;
    for (let i = 0; i < n; i++) {
      if (depth >= this.leafDepth || depth >= n) break;
      const tok = tk.word(i);
      const existing = node.children?.get(tok);
      if (existing) node = existing;
      else if (tk.hasDigit(i)) node = node.child(PARAM);
      else {
        const size = node.children?.size ?? 0;
        const hasParam = node.children?.has(PARAM) ?? false;
        if (hasParam) node = size < max ? node.child(own(tok)) : node.child(PARAM);
        else node = size + 1 < max ? node.child(own(tok)) : node.child(PARAM);
      }
      depth++;
    }
    return node;
  }

  private evict(c: Cluster): void {
    this.unlink(c);
    this.count--;
    const leaf = c.leaf;
    if (leaf.clusters) {
      const i = leaf.clusters.indexOf(c);
      if (i >= 0) leaf.clusters.splice(i, 1);
    }
    // Nodes that lead to no cluster any more go too, so the tree never outgrows the clusters it holds.
    let node: Node | null = leaf;
    while (node && !node.clusters?.length && !node.children?.size) {
      const parent: Node | null = node.parent;
      if (parent) parent.children!.delete(node.key);
      else {
        const tree = this.trees.get(c.level);
        if (tree) tree[c.words.length] = undefined;
      }
      node = parent;
    }
  }

  /** Drops counts older than `cutoffMs`, and clusters left with none; returns the clusters kept. */
  prune(cutoffMs: number): number {
    for (const c of [...this.all()]) if (c.dropBefore(cutoffMs)) this.evict(c);
    return this.count;
  }

  /** Tree nodes held (for tests of the memory bound). */
  nodeCount(): number {
    let n = 0;
    const walk = (node: Node) => {
      n++;
      for (const c of node.children?.values() ?? []) walk(c);
    };
    for (const tree of this.trees.values()) for (const root of tree) if (root) walk(root);
    return n;
  }
}

/** The 10 s bucket (its start, ms) of a time in ms. */
export function bucketOf(ms: number): number {
  return ms - (((ms % BUCKET_MS) + BUCKET_MS) % BUCKET_MS);
}
