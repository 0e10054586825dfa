import { describe, expect, it } from 'vitest';
import { compileIPSearch, containsIPIn, parseIPPattern } from '../../../query/stages/ip-search.js';

describe('ip() patterns, read as Loki reads them', () => {
  it('accepts an address, a CIDR prefix (host bits ignored) and an inclusive range', () => {
    expect(parseIPPattern('10.0.0.1')).toEqual({ v6: false, lo: 0x0a000001n, hi: 0x0a000001n });
    expect(parseIPPattern('10.0.0.5/8')).toEqual({ v6: false, lo: 0x0a000000n, hi: 0x0affffffn });
    expect(parseIPPattern('10.0.0.0/32')).toEqual({ v6: false, lo: 0x0a000000n, hi: 0x0a000000n });
    expect(parseIPPattern('0.0.0.0/0')).toEqual({ v6: false, lo: 0n, hi: 0xffffffffn });
    expect(parseIPPattern('10.0.0.1-10.0.0.9')).toEqual({ v6: false, lo: 0x0a000001n, hi: 0x0a000009n });
    expect(parseIPPattern('10.0.0.1-10.0.0.1')).toEqual({ v6: false, lo: 0x0a000001n, hi: 0x0a000001n });
    expect(parseIPPattern('2001:db8::/32')).toEqual({ v6: true, lo: 0x20010db8n << 96n, hi: (0x20010db8n << 96n) | ((1n << 96n) - 1n) });
    expect(parseIPPattern('::1')).toEqual({ v6: true, lo: 1n, hi: 1n });
    expect(parseIPPattern('::ffff:10.0.0.1')).toEqual({ v6: true, lo: 0xffff0a000001n, hi: 0xffff0a000001n });
    // A zone is valid on a single address, but addresses found in text never carry one.
    expect(parseIPPattern('fe80::1%eth0')).toBeNull();
    // Everything after % is the zone, as in Go's netip: these are zoned single addresses too.
    expect(parseIPPattern('fe80::1%eth0-fe80::9')).toBeNull();
    expect(parseIPPattern('fe80::1%eth0/64')).toBeNull();
    // The end of a range loses its zone.
    expect(parseIPPattern('fe80::1-fe80::9%eth0')).toEqual({ v6: true, lo: (0xfe80n << 112n) | 1n, hi: (0xfe80n << 112n) | 9n });
  });

  it('refuses everything else, spaces included', () => {
    for (const p of [
      '', ' 10.0.0.1', '10.0.0.1 ', '10.0.0.1 - 10.0.0.9', '10.0.0.9-10.0.0.1', '10.0.0.1-::1', '10.0.0.0/33', '::/129', '10.0.0.0/08', '10.0.0.0/+8',
      '10.0.0.0/', '010.0.0.1', '300.1.1.1', '10.0.0', '10.0.0.1.2', 'fe80::1%', '10.0.0.1%eth0', '1:2:3:4:5:6:7:8:9', ':::1',
      'localhost', '10.0.0.1-10.0.0.5-10.0.0.9',
    ]) {
      expect(parseIPPattern(p), p).toBeUndefined();
    }
    expect(() => compileIPSearch('10.0.0.0/33')).toThrow('ip: invalid pattern: "10.0.0.0/33"');
  });
});

describe('finding an address in text', () => {
  const found = (pattern: string, text: string) => compileIPSearch(pattern)(text);

  it('finds it anywhere, bounded by characters that cannot belong to an address', () => {
    expect(found('10.0.0.0/8', 'client 10.0.0.7:80')).toBe(true);
    expect(found('10.0.0.0/8', 'client=10.0.0.7,next')).toBe(true);
    expect(found('10.0.0.1', 'a10.0.0.1')).toBe(true);
    expect(found('10.0.0.1', '10.0.0.1')).toBe(true);
    expect(found('2001:db8::/32', 'peer=[2001:db8::5]:443')).toBe(true);
    expect(found('192.168.1.3', 'from 192.168.1.300 to 192.168.1.3')).toBe(true);
    expect(found('10.0.0.0/8', '1.2.3.4 then 10.9.9.9')).toBe(true);
  });

  it('reads the longest run of address characters, never an address inside a longer one', () => {
    expect(found('10.0.0.1', '110.0.0.1')).toBe(false);
    expect(found('10.0.0.1', '10.0.0.12')).toBe(false);
    // A trailing dot belongs to the run, which then is no address (Loki does the same).
    expect(found('10.0.0.1', 'host 10.0.0.1.')).toBe(false);
    expect(found('10.0.0.1', 'host 10.0.0.1. ok')).toBe(false);
  });

  it('needs a start that looks like an address, with room for one', () => {
    // Five characters from the start for IPv6, four for IPv4: `::1` alone is too short, with a neighbour it is found.
    expect(found('::1', '::1')).toBe(false);
    expect(found('::1', 'x ::1 y')).toBe(true);
    expect(found('1.2.3.4', '1.2.3.4')).toBe(true);
    expect(found('fe80::1', 'fe80::1')).toBe(true);
  });

  it('keeps the families apart', () => {
    expect(found('10.0.0.0/8', '::ffff:10.0.0.1')).toBe(false);
    expect(found('::ffff:10.0.0.0/104', 'mapped ::ffff:10.0.0.1 here')).toBe(true);
    expect(found('::/0', 'v4 only 10.0.0.1')).toBe(false);
  });

  it('treats range ends as inclusive', () => {
    expect(found('10.0.0.1-10.0.0.9', 'x 10.0.0.9')).toBe(true);
    expect(found('10.0.0.1-10.0.0.9', 'x 10.0.0.1')).toBe(true);
    expect(found('10.0.0.1-10.0.0.9', 'x 10.0.0.10')).toBe(false);
    expect(found('10.0.0.1-10.0.0.9', 'x 10.0.0.0')).toBe(false);
  });

  it('matches nothing for a zoned address or empty text', () => {
    expect(containsIPIn(parseIPPattern('fe80::1%eth0')!, 'fe80::1%eth0')).toBe(false);
    expect(found('10.0.0.0/8', '')).toBe(false);
  });
});
