/** `| decolorize`: removes ANSI terminal escape sequences (colours, cursor movement, titles) from the line. */
import type { EntryState, Stage } from './stage.js';

/**
 * CSI sequences (ESC [ or the 8-bit CSI, parameters, intermediates, a final byte), OSC strings ended by BEL or
 * ESC \, and the two-byte escapes (ESC followed by one character in @–_).
 */
const ANSI = /(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]/g;

export function stripAnsi(line: string): string {
  return line.includes('\x1b') || line.includes('\x9b') ? line.replace(ANSI, '') : line;
}

export class Decolorizer implements Stage {
  process(e: EntryState): boolean {
    e.line = stripAnsi(e.line);
    return true;
  }
}
