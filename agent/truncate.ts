/** Cuts a string to at most `maxBytes` of UTF-8 without splitting a character. */
export function truncateUtf8(s: string, maxBytes: number): string {
  // Every UTF-16 unit is at most 3 UTF-8 bytes, so short strings need no byte count.
  if (s.length * 3 <= maxBytes) return s;
  const buf = Buffer.from(s, 'utf8');
  if (buf.length <= maxBytes) return s;
  let end = maxBytes;
  // Back up over continuation bytes (10xxxxxx) to the start of the character that does not fit.
  while (end > 0 && (buf[end]! & 0xc0) === 0x80) end--;
  return buf.toString('utf8', 0, end);
}

export function overLimit(s: string, maxBytes: number): boolean {
  return s.length * 3 > maxBytes && Buffer.byteLength(s, 'utf8') > maxBytes;
}
