/**
 * Go's reference-time layouts (`2006-01-02T15:04:05Z07:00`) for `date` and for printing `__timestamp__`.
 * Times are shown in UTC, as Loki running in a container shows them.
 */

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

const TOKENS = [
  'January', 'Monday', 'MST', '2006', '-07:00:00', '-0700', '-07:00', '-07', 'Z07:00:00', 'Z0700', 'Z07:00', 'Z07',
  'Jan', 'Mon', '002', '__2', '_2', '01', '02', '03', '04', '05', '06', '15', 'PM', 'pm', '1', '2', '3', '4', '5',
];

function pad(n: number, w: number, c = '0'): string {
  return String(n).padStart(w, c);
}

export function formatGoTime(ns: bigint, layout: string): string {
  const ms = Number(ns / 1_000_000n) - (ns % 1_000_000n < 0n ? 1 : 0);
  const d = new Date(ms);
  const frac = ((ns % 1_000_000_000n) + 1_000_000_000n) % 1_000_000_000n;
  const fracDigits = frac.toString().padStart(9, '0');
  let out = '';
  let i = 0;
  const year = d.getUTCFullYear();
  const month = d.getUTCMonth();
  const day = d.getUTCDate();
  const hour = d.getUTCHours();
  while (i < layout.length) {
    // Fractional seconds: ".000" (fixed) or ".999" (trailing zeros trimmed), after a dot or comma.
    const fm = /^[.,](0+|9+)(?![0-9])/.exec(layout.slice(i));
    if (fm) {
      const n = fm[1]!.length;
      const digits = fracDigits.slice(0, Math.min(n, 9));
      if (fm[1]![0] === '0') out += layout[i] + digits;
      else {
        const t = digits.replace(/0+$/, '');
        if (t) out += layout[i] + t;
      }
      i += fm[0].length;
      continue;
    }
    const tok = TOKENS.find((t) => layout.startsWith(t, i));
    if (!tok) {
      out += layout[i];
      i++;
      continue;
    }
    i += tok.length;
    switch (tok) {
      case 'January': out += MONTHS[month]; break;
      case 'Jan': out += MONTHS[month]!.slice(0, 3); break;
      case 'Monday': out += DAYS[d.getUTCDay()]; break;
      case 'Mon': out += DAYS[d.getUTCDay()]!.slice(0, 3); break;
      case 'MST': out += 'UTC'; break;
      case '2006': out += pad(year, 4); break;
      case '06': out += pad(year % 100, 2); break;
      case '01': out += pad(month + 1, 2); break;
      case '1': out += String(month + 1); break;
      case '02': out += pad(day, 2); break;
      case '_2': out += pad(day, 2, ' '); break;
      case '2': out += String(day); break;
      case '002': case '__2': {
        const yday = Math.floor((Date.UTC(year, month, day) - Date.UTC(year, 0, 1)) / 86400000) + 1;
        out += tok === '002' ? pad(yday, 3) : pad(yday, 3, ' ');
        break;
      }
      case '15': out += pad(hour, 2); break;
      case '03': out += pad(hour % 12 === 0 ? 12 : hour % 12, 2); break;
      case '3': out += String(hour % 12 === 0 ? 12 : hour % 12); break;
      case '04': out += pad(d.getUTCMinutes(), 2); break;
      case '4': out += String(d.getUTCMinutes()); break;
      case '05': out += pad(d.getUTCSeconds(), 2); break;
      case '5': out += String(d.getUTCSeconds()); break;
      case 'PM': out += hour >= 12 ? 'PM' : 'AM'; break;
      case 'pm': out += hour >= 12 ? 'pm' : 'am'; break;
      case '-07:00:00': out += '+00:00:00'; break;
      case '-0700': out += '+0000'; break;
      case '-07:00': out += '+00:00'; break;
      case '-07': out += '+00'; break;
      case 'Z07:00:00': case 'Z0700': case 'Z07:00': case 'Z07': out += 'Z'; break;
    }
  }
  return out;
}
