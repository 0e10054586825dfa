/** Reads one key from a logfmt line (`a=1 b="two words"`); undefined when absent. */
export function logfmtField(line: string, key: string): string | undefined {
  let i = 0;
  const n = line.length;
  while (i < n) {
    while (i < n && line.charCodeAt(i) <= 32) i++;
    const ks = i;
    while (i < n && line[i] !== '=' && line.charCodeAt(i) > 32) i++;
    const k = line.slice(ks, i);
    let v = '';
    if (line[i] === '=') {
      i++;
      if (line[i] === '"') {
        i++;
        let out = '';
        while (i < n && line[i] !== '"') {
          if (line[i] === '\\' && i + 1 < n) {
            const c = line[i + 1]!;
            out += c === 'n' ? '\n' : c === 't' ? '\t' : c;
            i += 2;
          } else out += line[i++];
        }
        i++;
        v = out;
      } else {
        const vs = i;
        while (i < n && line.charCodeAt(i) > 32) i++;
        v = line.slice(vs, i);
      }
    }
    if (k === key) return v;
    if (i === ks) i++;
  }
  return undefined;
}
