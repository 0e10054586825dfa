/**
 * The values a template handles, modelled on what Go's text/template sees in Loki: label values are strings,
 * literals and arithmetic give ints and floats, `__timestamp__` gives a time, and a field missing from the label
 * map gives Go's "no value" (printed `<no value>`, rejected by functions that need a string).
 */
import { formatGoFloat } from '../units.js';
import { formatGoTime } from './time-layout.js';

export const NO_VALUE: unique symbol = Symbol('no value');

/** An integer as Go's int: kept apart from floats because Go prints and divides them differently. */
export class GoInt {
  constructor(readonly v: number) {}
}

export class GoTime {
  constructor(readonly ns: bigint) {}
}

/** The label map itself (`{{ . }}`). */
export class LabelMap {
  constructor(readonly lookup: (name: string) => string | undefined, readonly entries: () => [string, string][]) {}
}

export type TValue = string | number | GoInt | boolean | null | GoTime | LabelMap | typeof NO_VALUE;

export class TemplateExecError extends Error {}

/** A template execution that would build more than its budget allows (see TemplateBudget). */
export class TemplateSizeError extends TemplateExecError {}

/** Go's name for a value's type, for error messages. */
export function typeName(v: TValue): string {
  if (v === NO_VALUE) return 'invalid value';
  if (v === null) return 'nil';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'number') return 'float64';
  if (typeof v === 'boolean') return 'bool';
  if (v instanceof GoInt) return 'int';
  if (v instanceof GoTime) return 'time.Time';
  return 'map[string]string';
}

/** A value as `{{ }}` prints it (Go's fmt %v). */
export function printValue(v: TValue): string {
  if (typeof v === 'string') return v;
  if (v === NO_VALUE) return '<no value>';
  if (v === null) return '<nil>';
  if (typeof v === 'number') return formatGoFloat(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (v instanceof GoInt) return String(v.v);
  if (v instanceof GoTime) return formatGoTime(v.ns, '2006-01-02 15:04:05.999999999 -0700 MST');
  return 'map[' + v.entries().sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map(([k, x]) => `${k}:${x}`).join(' ') + ']';
}

/** Go's truth for `if`, `and`, `or`, `not`: false, 0, "", nil and missing values are false. */
export function truth(v: TValue): boolean {
  if (v === NO_VALUE || v === null || v === false || v === '' || v === 0) return false;
  if (v instanceof GoInt) return v.v !== 0;
  if (v instanceof LabelMap) return v.entries().length > 0;
  return true;
}

export function asString(v: TValue, fn: string): string {
  if (typeof v === 'string') return v;
  if (v === NO_VALUE) throw new TemplateExecError(`error calling ${fn}: invalid value; expected string`);
  throw new TemplateExecError(`error calling ${fn}: wrong type for value; expected string; got ${typeName(v)}`);
}

/** sprig's lenient number conversion (cast.ToInt64): unparseable strings and missing values are 0. */
export function toInt(v: TValue): number {
  if (v instanceof GoInt) return v.v;
  if (typeof v === 'number') return Math.trunc(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string') {
    const s = v.trim();
    if (/^[+-]?\d+$/.test(s)) return Number(s);
    if (/^[+-]?0[xX][0-9a-fA-F]+$/.test(s)) return Number.parseInt(s, 16);
    return 0;
  }
  if (v instanceof GoTime) return Number(v.ns / 1_000_000_000n);
  return 0;
}

/** sprig's lenient float conversion (cast.ToFloat64). */
export function toFloat(v: TValue): number {
  if (v instanceof GoInt) return v.v;
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string') {
    const s = v.trim();
    if (/^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/.test(s)) return Number(s);
    return 0;
  }
  return 0;
}

/** Whether sprig's `default` treats the value as empty. */
export function isEmpty(v: TValue): boolean {
  return !truth(v);
}
