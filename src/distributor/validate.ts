import type { Limits } from '../config/config.js';
import { metadataBytes, type IngestEntry, type IngestStream } from '../model/entry.js';
import { canonicalLabels, fingerprint, isValidLabelName, LabelParseError, parseLabels, sortedLabels, wellFormed, type Labels } from '../model/labels.js';
import { formatRFC3339Nano, MAX_NS, MIN_NS } from '../model/time.js';
import { LevelDetector } from './level-detection.js';
import { SERVICE_NAME, withServiceName } from './service-name.js';

/** A stream that passed validation, with its identity worked out once. */
export interface ValidStream {
  labels: Labels;
  canonical: string;
  fingerprint: string;
  entries: IngestEntry[];
}

export type RejectReason =
  | 'invalid_labels'
  | 'missing_labels'
  | 'max_label_names_per_series'
  | 'label_name_too_long'
  | 'label_value_too_long'
  | 'greater_than_max_sample_age'
  | 'too_far_in_future'
  | 'invalid_timestamp'
  | 'line_too_long'
  | 'structured_metadata_too_large'
  | 'structured_metadata_too_many'
  | 'memory_limit'
  | 'rate_limited'
  | 'stream_limit'
  | 'too_far_behind';

export interface Rejection {
  reason: RejectReason;
  entries: number;
  bytes: number;
  message: string;
}

export interface ValidationResult {
  streams: ValidStream[];
  rejections: Rejection[];
  acceptedEntries: number;
  acceptedBytes: number;
  truncatedLines: number;
}

function quote(s: string): string {
  return s.length > 120 ? s.slice(0, 120) + '…' : s;
}

/** What an entry weighs against the rate limit: its line and its structured metadata, as Loki counts them. */
export function entryBytes(e: IngestEntry): number {
  return e.line.length + (e.metadata ? metadataBytes(e.metadata) : 0);
}

function streamBytes(entries: IngestEntry[]): number {
  let n = 0;
  for (const e of entries) n += entryBytes(e);
  return n;
}

interface Identity {
  labels: Labels;
  canonical: string;
  fingerprint: string;
  /** The limits.discover_service_name list `labels` were completed with: another list is another identity. */
  discover: readonly string[];
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Clients send the same few label strings over and over; parsing, sorting and hashing them once per
 * process instead of once per push is a measurable share of the push path. The key is client input, so
 * the cache is bounded by bytes (oldest out first) and only streams that passed validation enter it: a
 * client sending a unique 1 MiB label value per push gets its 400 and leaves nothing behind.
 */
const identities = new Map<string, Identity>();
let identityBytes = 0;
const MAX_IDENTITY_BYTES = 16 * 1024 * 1024;

// UTF-16 strings: two bytes per code unit for the key and the canonical text (the labels share their strings).
function identitySize(key: string, id: Identity): number {
  return 2 * (key.length + id.canonical.length) + 64;
}

function cachedIdentity(raw: IngestStream['labels'], discover: readonly string[]): Identity | undefined {
  if (typeof raw !== 'string') return undefined;
  const hit = identities.get(raw);
  return hit && sameList(hit.discover, discover) ? hit : undefined;
}

function rememberIdentity(raw: IngestStream['labels'], id: Identity): void {
  if (typeof raw !== 'string') return;
  const old = identities.get(raw);
  if (old === id) return;
  if (old) {
    // Built under another discover_service_name list (another tenant's, or before a reload).
    identities.delete(raw);
    identityBytes -= identitySize(raw, old);
  }
  const size = identitySize(raw, id);
  if (size > MAX_IDENTITY_BYTES / 64) return;
  for (const [k, v] of identities) {
    if (identityBytes + size <= MAX_IDENTITY_BYTES) break;
    identities.delete(k);
    identityBytes -= identitySize(k, v);
  }
  identities.set(raw, id);
  identityBytes += size;
}

/** Bytes the identity cache holds now (tests and metrics). */
export function identityCacheBytes(): number {
  return identityBytes;
}

function identityOf(raw: IngestStream['labels'], discover: readonly string[]): Identity {
  const hit = cachedIdentity(raw, discover);
  if (hit) return hit;
  let labels: Labels;
  if (typeof raw === 'string') labels = sortedLabels(parseLabels(raw));
  else {
    const names = Object.keys(raw);
    for (const name of names) {
      if (!isValidLabelName(name)) throw new LabelParseError(`invalid label name ${JSON.stringify(name)}: names match [a-zA-Z_][a-zA-Z0-9_]*`);
    }
    labels = Object.create(null) as Labels;
    for (const name of names.sort()) labels[name] = wellFormed(raw[name]!);
  }
  // A label with an empty value is no label, as in Loki: `{a="", b="x"}` is the stream `{b="x"}`.
  for (const n of Object.keys(labels)) if (labels[n] === '') delete labels[n];
  // Loki 3 names the service of every stream that does not say (limits.discover_service_name).
  if (Object.keys(labels).length > 0) labels = withServiceName(labels, discover);
  const canonical = canonicalLabels(labels);
  return { labels, canonical, fingerprint: fingerprint(canonical), discover };
}

/**
 * Per-stream and per-entry checks as Loki's distributor makes them. Bad streams and entries are set aside
 * with a message that names the stream and the reason; the rest go on.
 */
export function validatePush(streams: IngestStream[], limits: Limits, nowNs: bigint): ValidationResult {
  const out: ValidStream[] = [];
  const rejections: Rejection[] = [];
  let acceptedEntries = 0;
  let acceptedBytes = 0;
  let truncatedLines = 0;
  const oldest = limits.rejectOldSamples ? nowNs - limits.rejectOldSamplesMaxAge : null;
  const newest = nowNs + limits.creationGracePeriod;
  const byFingerprint = new Map<string, ValidStream>();

  for (const s of streams) {
    if (s.entries.length === 0) continue;
    const rawText = () => (typeof s.labels === 'string' ? s.labels : canonicalLabels(s.labels));
    const rejectStream = (reason: RejectReason, message: string) =>
      rejections.push({ reason, entries: s.entries.length, bytes: streamBytes(s.entries), message });
    let id: Identity;
    try {
      id = identityOf(s.labels, limits.discoverServiceName);
    } catch (err) {
      rejectStream('invalid_labels', `error parsing labels '${quote(rawText())}': ${(err as Error).message}`);
      continue;
    }
    const { labels, canonical } = id;
    const names = Object.keys(labels);
    if (names.length === 0) {
      rejectStream('missing_labels', `error at least one label pair is required per stream, got ${quote(rawText())}`);
      continue;
    }
    // service_name, often added by the distributor itself, is not counted, as in Loki.
    const counted = SERVICE_NAME in labels ? names.length - 1 : names.length;
    if (counted > limits.maxLabelNamesPerSeries) {
      rejectStream('max_label_names_per_series', `stream '${quote(canonical)}' has ${counted} label names; limit ${limits.maxLabelNamesPerSeries}`);
      continue;
    }
    const longName = names.find((n) => n.length > limits.maxLabelNameLength);
    if (longName) {
      rejectStream('label_name_too_long', `stream '${quote(canonical)}' has label name too long: '${quote(longName)}' (${longName.length} characters; limit ${limits.maxLabelNameLength})`);
      continue;
    }
    const longValue = names.find((n) => labels[n]!.length > limits.maxLabelValueLength);
    if (longValue) {
      rejectStream('label_value_too_long', `stream '${quote(canonical)}' has label value too long: '${quote(labels[longValue]!)}' for label ${longValue} (${labels[longValue]!.length} characters; limit ${limits.maxLabelValueLength})`);
      continue;
    }
    rememberIdentity(s.labels, id);
    const detector = limits.discoverLogLevels ? LevelDetector.of(limits) : null;
    const streamLevel = detector?.streamLevel(labels);

    const kept: IngestEntry[] = [];
    const rejectEntry = (reason: RejectReason, e: IngestEntry, message: string) => rejections.push({ reason, entries: 1, bytes: entryBytes(e), message });
    for (const e of s.entries) {
      // Stored timestamps are int64 nanoseconds; protobuf seconds can reach far past them (JSON up to 19 digits too).
      if (e.ts < MIN_NS || e.ts > MAX_NS) {
        rejectEntry('invalid_timestamp', e, `entry for stream '${quote(canonical)}' has timestamp out of range: ${e.ts} ns, timestamps must lie between 1677-09-21T00:12:43Z and 2262-04-11T23:47:16Z (int64 nanoseconds since 1970)`);
        continue;
      }
      if (oldest !== null && e.ts < oldest) {
        rejectEntry('greater_than_max_sample_age', e, `entry for stream '${quote(canonical)}' has timestamp too old: ${formatRFC3339Nano(e.ts)}, oldest acceptable timestamp is: ${formatRFC3339Nano(oldest)}`);
        continue;
      }
      if (e.ts > newest) {
        rejectEntry('too_far_in_future', e, `entry for stream '${quote(canonical)}' has timestamp too new: ${formatRFC3339Nano(e.ts)}, newest acceptable timestamp is: ${formatRFC3339Nano(newest)}`);
        continue;
      }
      if (e.line.length > limits.maxLineSize) {
        if (!limits.maxLineSizeTruncate) {
          rejectEntry('line_too_long', e, `Max entry size '${limits.maxLineSize}' bytes exceeded for stream '${quote(canonical)}' while adding an entry with length '${e.line.length}' bytes`);
          continue;
        }
        e.line = truncateUtf8(e.line, limits.maxLineSize);
        truncatedLines++;
      }
      let mdBytes = 0;
      if (e.metadata) {
        const count = Object.keys(e.metadata).length;
        if (limits.maxStructuredMetadataEntriesCount > 0 && count > limits.maxStructuredMetadataEntriesCount) {
          rejectEntry('structured_metadata_too_many', e, `stream '${quote(canonical)}' has too many structured metadata labels: '${count}', limit: '${limits.maxStructuredMetadataEntriesCount}'. Please see \`limits.max_structured_metadata_entries_count\` or contact your Loki administrator to increase it.`);
          continue;
        }
        mdBytes = metadataBytes(e.metadata);
        if (limits.maxStructuredMetadataSize > 0 && mdBytes > limits.maxStructuredMetadataSize) {
          rejectEntry('structured_metadata_too_large', e, `stream '${quote(canonical)}' has structured metadata too large: '${mdBytes}' bytes, limit: '${limits.maxStructuredMetadataSize}' bytes. Please see \`limits.max_structured_metadata_size\` or contact your Loki administrator to increase it.`);
          continue;
        }
      }
      kept.push(e);
      acceptedBytes += e.line.length + mdBytes;
      // After the checks, as in Loki: the added detected_level does not count against the metadata limits.
      if (detector) detector.decorate(e, streamLevel);
    }
    if (kept.length === 0) continue;
    acceptedEntries += kept.length;
    // Two spellings of one label set in a single push become one stream.
    const existing = byFingerprint.get(canonical);
    if (existing) existing.entries.push(...kept);
    else {
      const vs: ValidStream = { labels, canonical, fingerprint: id.fingerprint, entries: kept };
      byFingerprint.set(canonical, vs);
      out.push(vs);
    }
  }
  return { streams: out, rejections, acceptedEntries, acceptedBytes, truncatedLines };
}

/** Cuts at a character boundary so a truncated line stays valid UTF-8. */
function truncateUtf8(buf: Buffer, max: number): Buffer {
  let end = max;
  while (end > 0 && (buf[end]! & 0xc0) === 0x80) end--;
  return buf.subarray(0, end);
}
