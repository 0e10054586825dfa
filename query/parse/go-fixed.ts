/** Go's `%f` (six decimals), which Loki's messages use to print a number: `1.000000`, `NaN`, `+Inf`. */
export function goFixed(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  const neg = v < 0 || Object.is(v, -0);
  const a = Math.abs(v);
  // toFixed switches to exponent notation from 1e21 on; such doubles are whole numbers, printed in full by Go.
  if (a >= 1e21) return `${neg ? '-' : ''}${BigInt(a)}.000000`;
  // An exact tie at the seventh decimal is an odd multiple of 1/128; Go rounds it to even, toFixed rounds it up.
  const s = Number.isInteger(a * 128) && (a * 128) % 2 === 1 ? tieToEven(a) : a.toFixed(6);
  return neg ? `-${s}` : s;
}

function tieToEven(a: number): string {
  const scaled = a * 1e6; // exact: an odd multiple of 1e6/128, so it ends in .5
  const down = Math.floor(scaled);
  const micros = down % 2 === 0 ? down : down + 1;
  return `${Math.floor(micros / 1e6)}.${String(micros % 1e6).padStart(6, '0')}`;
}
