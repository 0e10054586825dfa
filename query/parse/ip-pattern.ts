/**
 * Validates the argument of `ip("…")` in a label filter at parse time, as Loki does: a single address, a CIDR
 * range (`10.0.0.0/8`, `2001:db8::/32`) or an explicit range (`192.168.0.1-192.168.0.9`), IPv4 or IPv6.
 * Returns an error description, or undefined when the pattern is valid.
 */

function isIPv4(s: string): boolean {
  const parts = s.split('.');
  if (parts.length !== 4) return false;
  for (const p of parts) {
    if (p.length === 0 || p.length > 3) return false;
    for (let i = 0; i < p.length; i++) {
      const c = p.charCodeAt(i);
      if (c < 48 || c > 57) return false;
    }
    if (Number(p) > 255) return false;
  }
  return true;
}

function isIPv6(s: string): boolean {
  if (!s.includes(':') || s.includes('[') || s.includes(']') || s.includes('%') || s.includes('/')) return false;
  try {
    // The WHATWG URL parser implements the full IPv6 text grammar (compression, embedded IPv4).
    new URL(`http://[${s}]/`);
    return true;
  } catch {
    return false;
  }
}

export function checkIPPattern(pattern: string): string | undefined {
  const s = pattern.trim();
  const slash = s.indexOf('/');
  if (slash !== -1) {
    const addr = s.slice(0, slash);
    const bits = s.slice(slash + 1);
    const v4 = isIPv4(addr);
    if (!v4 && !isIPv6(addr)) return `invalid address ${JSON.stringify(addr)} in CIDR ${JSON.stringify(pattern)}`;
    const max = v4 ? 32 : 128;
    if (!/^\d{1,3}$/.test(bits) || Number(bits) > max) return `invalid prefix length ${JSON.stringify(bits)} in CIDR ${JSON.stringify(pattern)}: expected 0-${max}`;
    return undefined;
  }
  const dash = s.indexOf('-');
  if (dash !== -1) {
    const from = s.slice(0, dash);
    const to = s.slice(dash + 1);
    const bothV4 = isIPv4(from) && isIPv4(to);
    const bothV6 = isIPv6(from) && isIPv6(to);
    if (!bothV4 && !bothV6) return `invalid IP range ${JSON.stringify(pattern)}: expected two addresses of the same family like 10.0.0.1-10.0.0.9`;
    return undefined;
  }
  if (isIPv4(s) || isIPv6(s)) return undefined;
  return `invalid IP pattern ${JSON.stringify(pattern)}: expected an address (10.0.0.1), a CIDR range (10.0.0.0/8) or a range (10.0.0.1-10.0.0.9)`;
}
