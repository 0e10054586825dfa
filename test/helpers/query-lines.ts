/** The response of a log query_range, with Loki 3's `warnings` when the server sent any. */
export interface LogQueryResult {
  lines: string[];
  warnings: string[];
  status: number;
}

/**
 * Every line `query` selects over the last `hours` hours, read through the HTTP query API in pages
 * forward in time (so a count is exact even past one response's limit).
 */
export async function queryLogs(url: string, query: string, opts: { hours?: number; tenant?: string } = {}): Promise<LogQueryResult> {
  const end = BigInt(Date.now() + 60_000) * 1_000_000n;
  let start = end - BigInt((opts.hours ?? 2) * 3600) * 1_000_000_000n;
  const lines: string[] = [];
  const warnings: string[] = [];
  const headers: Record<string, string> = opts.tenant ? { 'x-scope-orgid': opts.tenant } : {};
  for (;;) {
    const qs = new URLSearchParams({ query, start: String(start), end: String(end), limit: '5000', direction: 'forward' });
    const res = await fetch(`${url}/loki/api/v1/query_range?${qs}`, { headers });
    const text = await res.text();
    if (res.status !== 200) return { lines, warnings, status: res.status };
    const body = JSON.parse(text) as { warnings?: string[]; data: { warnings?: string[]; result: { values: [string, string][] }[] } };
    for (const w of [...(body.warnings ?? []), ...(body.data.warnings ?? [])]) if (!warnings.includes(w)) warnings.push(w);
    const page: [bigint, string][] = [];
    for (const s of body.data.result) for (const [ts, line] of s.values) page.push([BigInt(ts), line]);
    if (page.length === 0) return { lines, warnings, status: 200 };
    page.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const last = page.at(-1)![0];
    // The next page starts after the newest timestamp seen; a page cut inside one timestamp is rare in
    // tests (distinct timestamps per stream) but the cut-off entries at `last` are kept, not refetched.
    for (const [, line] of page) lines.push(line);
    if (page.length < 5000) return { lines, warnings, status: 200 };
    start = last + 1n;
  }
}

/** The lines only; fails on any answer but 200. */
export async function queryLines(url: string, query: string, opts: { hours?: number; tenant?: string } = {}): Promise<string[]> {
  const r = await queryLogs(url, query, opts);
  if (r.status !== 200) throw new Error(`query_range ${query} answered ${r.status}`);
  return r.lines;
}
