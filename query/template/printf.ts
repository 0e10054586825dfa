/**
 * Go's fmt.Sprintf for the verbs templates use: %s %v %d %f %F %e %g %q %x %X %t %c %%, with flags `-+ 0#`,
 * width and precision. A verb that does not fit its argument prints Go's `%!d(string=x)` marker, as Go does.
 */
import { formatGoFloat } from '../units.js';
import { GoInt, GoTime, NO_VALUE, printValue, type TValue, typeName } from './values.js';

const VERB = /%([-+# 0]*)(\d+|\*)?(?:\.(\d+|\*)?)?([a-zA-Z%])/g;

function padTo(s: string, width: number | undefined, left: boolean, zero: boolean): string {
  if (width === undefined || s.length >= width) return s;
  if (left) return s.padEnd(width, ' ');
  if (zero) {
    const sign = s[0] === '-' || s[0] === '+' ? s[0] : '';
    return sign + s.slice(sign.length).padStart(width - sign.length, '0');
  }
  return s.padStart(width, ' ');
}

function numeric(v: TValue): number | undefined {
  if (v instanceof GoInt) return v.v;
  if (typeof v === 'number') return v;
  return undefined;
}

function bad(verb: string, v: TValue): string {
  if (v === null || v === NO_VALUE) return `%!${verb}(<nil>)`;
  return `%!${verb}(${typeName(v)}=${printValue(v)})`;
}

function quote(s: string): string {
  return JSON.stringify(s).replace(/\\u([0-9a-f]{4})/g, (_m, h: string) => `\\x${h.slice(2)}`);
}

/** `reserve` is charged with each padded width before the padding is built (see ExecContext.reserve). */
export function sprintf(format: string, args: TValue[], reserve: (chars: number) => void = () => {}): string {
  let argi = 0;
  let out = '';
  let last = 0;
  for (const m of format.matchAll(VERB)) {
    out += format.slice(last, m.index);
    last = m.index! + m[0].length;
    const flags = m[1]!;
    const verb = m[4]!;
    if (verb === '%') {
      out += '%';
      continue;
    }
    const takeStar = (spec: string | undefined): number | undefined => {
      if (spec !== '*') return spec === undefined ? undefined : Number(spec);
      const a = args[argi++];
      return a === undefined ? undefined : numeric(a);
    };
    const width = takeStar(m[2]);
    const hasPrec = m[0].includes('.');
    const prec = hasPrec ? (takeStar(m[3]) ?? 0) : undefined;
    if (argi >= args.length) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    const v = args[argi++]!;
    const left = flags.includes('-');
    const zero = flags.includes('0') && !left;
    const plus = flags.includes('+');
    let s: string;
    const n = numeric(v);
    switch (verb) {
      case 'v':
        s = v === NO_VALUE ? '<nil>' : printValue(v);
        break;
      case 's':
        // Strings, and times through their String method; anything else is a verb mismatch.
        s = typeof v === 'string' || v instanceof GoTime ? printValue(v) : bad(verb, v);
        if (prec !== undefined && typeof v === 'string') s = [...s].slice(0, prec).join('');
        break;
      case 'q':
        s = typeof v === 'string' ? quote(v) : bad(verb, v);
        break;
      case 'd':
        if (v instanceof GoInt) s = (plus && v.v >= 0 ? '+' : '') + String(v.v);
        else s = bad(verb, v);
        break;
      case 'f':
      case 'F':
      case 'e':
      case 'g': {
        if (n === undefined || v instanceof GoInt) {
          s = bad(verb, v);
          break;
        }
        if (verb === 'e') s = goExp(n, prec ?? 6);
        else if (verb === 'g') s = prec === undefined ? formatGoFloat(n) : Number(n.toPrecision(prec || 1)).toString();
        else s = n.toFixed(prec ?? 6);
        if (plus && n >= 0) s = '+' + s;
        break;
      }
      case 'x':
      case 'X':
        if (v instanceof GoInt) s = v.v.toString(16);
        else if (typeof v === 'string') s = Buffer.from(v, 'utf8').toString('hex');
        else s = bad(verb, v);
        if (verb === 'X') s = s.toUpperCase();
        break;
      case 't':
        s = typeof v === 'boolean' ? String(v) : bad(verb, v);
        break;
      case 'c':
        s = v instanceof GoInt ? String.fromCodePoint(v.v) : bad(verb, v);
        break;
      default:
        s = bad(verb, v);
    }
    if (width !== undefined && width > s.length) reserve(width);
    out += padTo(s, width, left, zero && verb !== 's' && verb !== 'q');
  }
  out += format.slice(last);
  if (argi < args.length) out += '%!(EXTRA ' + args.slice(argi).map((a) => `${typeName(a)}=${printValue(a)}`).join(', ') + ')';
  return out;
}

function goExp(n: number, prec: number): string {
  const s = n.toExponential(prec);
  return s.replace(/e([+-])(\d)$/, 'e$10$2');
}
