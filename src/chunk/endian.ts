/**
 * The codecs read and write BigInt64Array timestamps through 32-bit word views to avoid one BigInt
 * allocation per entry; that needs the word order of a little-endian host (every platform Node ships on
 * today), with a BigInt fallback otherwise.
 */
const LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export function littleEndian(): boolean {
  return LE;
}
