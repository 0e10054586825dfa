/** Go's `%f` (six decimals), which Loki's messages use to print a number: `1.000000`, `NaN`, `+Inf`. */
export function goFixed(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  // toFixed switches to exponent notation from 1e21 on; such doubles are whole numbers, printed in full by Go.
  if (Math.abs(v) >= 1e21) return `${BigInt(v)}.000000`;
  const s = v.toFixed(6);
  // Go keeps the sign of negative zero and of negatives that round to zero.
  return (Object.is(v, -0) || v < 0) && !s.startsWith('-') ? `-${s}` : s;
}
