/**
 * Per-stream colours for terminal output. Colour is used only when the stream is a terminal (never in a pipe
 * or file, where escape codes would corrupt the data), and NO_COLOR or TERM=dumb turn it off there too.
 */
const PALETTE = [31, 32, 33, 34, 35, 36, 91, 92, 93, 94, 95, 96];

export function colorEnabled(stream: NodeJS.WritableStream & { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  return stream.isTTY === true && !env.NO_COLOR && env.TERM !== 'dumb';
}

/** The same stream always gets the same colour, in every run. */
export function colorFor(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return PALETTE[(h >>> 0) % PALETTE.length]!;
}

export function paint(text: string, color: number): string {
  return `\u001b[${color}m${text}\u001b[0m`;
}

export function dim(text: string): string {
  return `\u001b[2m${text}\u001b[0m`;
}
