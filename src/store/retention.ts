import { compileMatcher } from '../../query/regex.js';
import type { Limits, RetentionRule } from '../config/config.js';
import type { TenantLimits } from '../config/overrides.js';
import type { Labels } from '../model/labels.js';

/** How long a tenant keeps a stream's entries: queries hide what is older, the compactor deletes it. */
export interface RetentionPolicy {
  /** Entries with ts < cutoff are expired; null: the stream is kept for ever. */
  cutoff(tenant: string, labels: Labels, nowNs: bigint): bigint | null;
}

type CompiledRule = { rule: RetentionRule; matches: (labels: Labels) => boolean };

// Rule lists are replaced whole when the overrides file changes, so their compiled form is cached by identity.
const compiled = new WeakMap<RetentionRule[], CompiledRule[]>();

function compile(rules: RetentionRule[]): CompiledRule[] {
  let c = compiled.get(rules);
  if (!c) {
    c = rules.map((rule) => {
      const tests = rule.matchers.map((m) => ({ name: m.name, test: compileMatcher(m) }));
      // A missing label reads as "", as in a query's selector.
      return { rule, matches: (labels: Labels) => tests.every((t) => t.test(labels[t.name] ?? '')) };
    });
    compiled.set(rules, c);
  }
  return c;
}

/**
 * The rule that decides a stream's retention: the highest priority among the rules that match; between
 * matching rules of equal priority the shortest period, as Loki chooses. Null when none matches.
 */
export function matchingRule(rules: RetentionRule[], labels: Labels): RetentionRule | null {
  let best: RetentionRule | null = null;
  for (const { rule, matches } of compile(rules)) {
    if (!matches(labels)) continue;
    if (!best || rule.priority > best.priority || (rule.priority === best.priority && rule.period < best.period)) best = rule;
  }
  return best;
}

/**
 * The stream's retention period under `limits` (a tenant's effective limits, so its own retention_stream
 * list replaces the global one when the overrides file sets one): its matching rule's period, whether
 * shorter or longer than retention_period, else retention_period; 0 = for ever.
 */
export function retentionPeriodFor(limits: Limits, labels: Labels): bigint {
  const rules = limits.retentionStream ?? [];
  const rule = rules.length > 0 ? matchingRule(rules, labels) : null;
  return rule ? rule.period : (limits.retentionPeriod ?? 0n);
}

/** The policy of each tenant's effective limits, read afresh at every call so overrides apply at once. */
export function retentionPolicy(limits: TenantLimits): RetentionPolicy {
  return {
    cutoff(tenant, labels, nowNs) {
      const period = retentionPeriodFor(limits.forTenant(tenant), labels);
      return period > 0n ? nowNs - period : null;
    },
  };
}

/** True when no stream of the tenant can expire: queries then skip the per-stream check. */
export function keepsForever(limits: Limits): boolean {
  return (limits.retentionPeriod ?? 0n) === 0n && (limits.retentionStream ?? []).length === 0;
}

/** One query's view of the policy: the cutoff of each stream it reads, for its tenant, at its start. */
export type StreamCutoff = (labels: Labels) => bigint | null;

export function queryCutoff(policy: RetentionPolicy, tenant: string, nowNs: bigint): StreamCutoff {
  return (labels) => policy.cutoff(tenant, labels, nowNs);
}

/** Where a stream's reading starts: the query's start, or its retention cutoff when that is later. */
export function effectiveStart(cutoff: StreamCutoff | undefined, labels: Labels, start: bigint): bigint {
  const c = cutoff?.(labels);
  return c !== null && c !== undefined && c > start ? c : start;
}
