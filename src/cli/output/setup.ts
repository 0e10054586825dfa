/** Turns the output flags into printer settings, validating each (one place, so every command agrees). */
import { parseOutputMode, type OutputMode } from '../client/options.js';
import { colorEnabled } from './colors.js';
import type { LabelFilter } from './common-labels.js';
import type { PrinterOptions } from './entry-printer.js';
import { resolveTimeZone, type TimeZone } from './time-format.js';

export interface OutputFlags {
  output?: string;
  quiet?: boolean;
  labels?: boolean;
  includeLabel?: string[];
  excludeLabel?: string[];
  timezone?: string;
}

export interface OutputSettings extends PrinterOptions {
  mode: OutputMode;
  tz: TimeZone;
}

export function outputSettings(flags: OutputFlags, out: NodeJS.WriteStream = process.stdout, err: NodeJS.WriteStream = process.stderr): OutputSettings {
  const filter: LabelFilter = {
    show: flags.labels !== false,
    include: new Set(flags.includeLabel ?? []),
    exclude: new Set(flags.excludeLabel ?? []),
  };
  return {
    mode: parseOutputMode(flags.output ?? 'default'),
    quiet: flags.quiet === true,
    filter,
    tz: resolveTimeZone(flags.timezone ?? 'Local'),
    out,
    err,
    color: colorEnabled(out),
  };
}
