import { canonicalLabels, type Labels } from '../../src/model/labels.js';

/**
 * Every error the evaluator raises on purpose extends this class: the HTTP layer answers them with 400
 * and the message, while anything else is a 500.
 */
export class QueryEvalError extends Error {
  override name = 'QueryEvalError';
}

/** Bad `QueryParams` (step, limit, time range). */
export class QueryParamError extends QueryEvalError {
  override name = 'QueryParamError';
}

export const INSTANT_LOG_QUERY_MESSAGE = 'log queries are not supported as an instant query type, please change your query to a range query type';

export class InstantLogQueryError extends QueryEvalError {
  override name = 'InstantLogQueryError';
  constructor() {
    super(INSTANT_LOG_QUERY_MESSAGE);
  }
}

export class SeriesLimitError extends QueryEvalError {
  override name = 'SeriesLimitError';
  constructor(readonly limit: number) {
    super(`maximum number of series (${limit}) reached for a single query; consider reducing query cardinality by adding more filters or aggregating`);
  }
}

export class EntriesLimitError extends QueryEvalError {
  override name = 'EntriesLimitError';
  constructor(readonly requested: number, readonly limit: number) {
    super(`max entries limit per query exceeded, limit > max_entries_limit (${requested} > ${limit})`);
  }
}

/**
 * A metric query met a series carrying `__error__` (a parser failed, or an unwrapped value was not a
 * number). As in Loki, metrics refuse errors unless the query filters them out explicitly.
 */
export class PipelineError extends QueryEvalError {
  override name = 'PipelineError';
  constructor(readonly labels: Labels) {
    const kind = labels['__error__'] ?? '';
    super(
      `pipeline error: '${kind}' for series: '${canonicalLabels(labels)}'. ` +
        `Use a label filter to intentionally skip this error (e.g. | __error__!="${kind}"), ` +
        `or match empty errors to skip all of them (e.g. | __error__=""). ` +
        `The filter can also follow unwrap (e.g. | unwrap latency | __error__="").`,
    );
  }
}
