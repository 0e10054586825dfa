/**
 * Keys for `by (names)` groups, made straight from label values instead of label sets: exact, since
 * `by` keeps just those values (a missing label and an empty one alike). Both functions must make the
 * same key for the same entry: the range aggregation mixes them, scanning most lines and handing the
 * rest to the pipeline.
 */
import type { FieldScanner, PipelineEntry } from '../pipeline-types.js';
import type { Labels } from '../../src/model/labels.js';

const hasOwn = Object.prototype.hasOwnProperty;

function join(names: string[], value: (name: string) => string): string {
  if (names.length === 1) return value(names[0]!);
  let key = '';
  for (let k = 0; k < names.length; k++) {
    const v = value(names[k]!);
    key += v.length + ':' + v;
  }
  return key;
}

/** The key of an entry's final labels. */
export function groupValuesKey(e: PipelineEntry, names: string[]): string {
  if (names.length === 1) return e.get(names[0]!) ?? '';
  return join(names, (n) => e.get(n) ?? '');
}

/**
 * The key of a line whose whole pipeline is the parser behind `sc`, from its last scan: a name takes
 * the last scanned field that lands on it (a field clashing with a stream label lands on
 * `<field>_extracted`, as LabelsBuilder.setExtracted does), else the stream's label, else ''.
 */
export function scannedGroupKey(sc: FieldScanner, stream: Labels, names: string[]): string {
  if (names.length === 1) return scannedValue(sc, stream, names[0]!);
  return join(names, (n) => scannedValue(sc, stream, n));
}

function scannedValue(sc: FieldScanner, stream: Labels, name: string): string {
  let v: string | undefined;
  const found = sc.names;
  for (let k = 0; k < sc.count; k++) {
    const f = found[k]!;
    if (hasOwn.call(stream, f) ? name === f + '_extracted' : name === f) v = sc.values[k]!;
  }
  if (v !== undefined) return v;
  return hasOwn.call(stream, name) ? stream[name]! : '';
}
