import type { ArithmeticOp, BinaryOp, ComparisonOp, SetOp } from '../ast.js';

export function isSetOp(op: BinaryOp): op is SetOp {
  return op === 'and' || op === 'or' || op === 'unless';
}

export function isComparison(op: BinaryOp): op is ComparisonOp {
  return op === '==' || op === '!=' || op === '>' || op === '>=' || op === '<' || op === '<=';
}

export function arithmetic(op: ArithmeticOp, l: number, r: number): number {
  switch (op) {
    case '+':
      return l + r;
    case '-':
      return l - r;
    case '*':
      return l * r;
    // Loki, unlike Prometheus, answers NaN for any division or modulo by zero (not ±Inf), for scalars and
    // vectors alike.
    case '/':
      return r === 0 ? NaN : l / r;
    case '%':
      // JS % is C's fmod, as Go's math.Mod.
      return r === 0 ? NaN : l % r;
    case '^':
      return goPow(l, r);
  }
}

export function compare(op: ComparisonOp, l: number, r: number): boolean {
  switch (op) {
    case '==':
      return l === r;
    case '!=':
      return l !== r;
    case '>':
      return l > r;
    case '>=':
      return l >= r;
    case '<':
      return l < r;
    case '<=':
      return l <= r;
  }
}

/** Go's math.Pow, which differs from `**` where the base is ±1 and the exponent NaN or infinite. */
export function goPow(x: number, y: number): number {
  if (x === 1) return 1;
  if (x === -1 && (y === Infinity || y === -Infinity)) return 1;
  return x ** y;
}
