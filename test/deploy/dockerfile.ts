// A reader for the Dockerfile subset narvi uses: instructions with backslash continuations, comments,
// exec-form JSON arrays, ARG defaults before FROM, stages, and COPY with flags. Enough to check structure;
// it does not try to be BuildKit.

export interface Instruction {
  /** Upper-cased keyword: FROM, RUN, COPY, … */
  op: string;
  /** Everything after the keyword, continuations joined with a space. */
  args: string;
  /** 1-based line where the instruction starts. */
  line: number;
}

export interface Stage {
  name?: string;
  /** The base image with ARG defaults substituted. */
  image: string;
  instructions: Instruction[];
}

export interface Dockerfile {
  /** ARGs declared before the first FROM, with their defaults. */
  globalArgs: Record<string, string>;
  stages: Stage[];
}

export interface Copy {
  from?: string;
  sources: string[];
  dest: string;
}

export function parseInstructions(text: string): Instruction[] {
  const out: Instruction[] = [];
  const lines = text.split(/\r?\n/);
  let cur: Instruction | undefined;
  lines.forEach((raw, i) => {
    const trimmed = raw.trim();
    // Comment lines end nothing: Docker drops them even in the middle of a continued instruction.
    if (trimmed.startsWith('#')) return;
    if (!cur) {
      if (trimmed === '') return;
      const m = /^(\S+)\s*(.*)$/.exec(trimmed)!;
      cur = { op: m[1]!.toUpperCase(), args: '', line: i + 1 };
      raw = m[2]!;
    } else if (trimmed === '') {
      return;
    }
    const continued = /\\\s*$/.test(raw);
    const part = raw.replace(/\\\s*$/, '').trim();
    cur.args = cur.args ? `${cur.args} ${part}` : part;
    if (!continued) {
      out.push(cur);
      cur = undefined;
    }
  });
  if (cur) throw new Error(`Dockerfile ends inside a continued ${cur.op} instruction (line ${cur.line})`);
  return out;
}

function substitute(s: string, vars: Record<string, string>): string {
  return s.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a: string | undefined, b: string | undefined) => {
    const k = (a ?? b)!;
    if (!(k in vars)) throw new Error(`Dockerfile refers to undeclared ARG ${k}`);
    return vars[k]!;
  });
}

export function parseDockerfile(text: string): Dockerfile {
  const globalArgs: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const ins of parseInstructions(text)) {
    if (ins.op === 'FROM') {
      const words = ins.args.split(/\s+/).filter((w) => !w.startsWith('--'));
      const image = substitute(words[0] ?? '', globalArgs);
      const as = words[1]?.toUpperCase() === 'AS' ? words[2] : undefined;
      stages.push({ name: as, image, instructions: [] });
    } else if (stages.length === 0) {
      if (ins.op !== 'ARG') throw new Error(`line ${ins.line}: ${ins.op} before the first FROM`);
      const [k, v] = ins.args.split('=', 2);
      globalArgs[k!.trim()] = (v ?? '').trim();
    } else {
      stages[stages.length - 1]!.instructions.push(ins);
    }
  }
  return { globalArgs, stages };
}

/** The exec form (`["node", "x"]`) of ENTRYPOINT/CMD/RUN; throws for the shell form. */
export function execForm(ins: Instruction): string[] {
  if (!ins.args.startsWith('[')) throw new Error(`line ${ins.line}: ${ins.op} uses the shell form; use the exec form ["…"]`);
  const v: unknown = JSON.parse(ins.args);
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new Error(`line ${ins.line}: ${ins.op} is not a JSON array of strings`);
  return v as string[];
}

export function parseCopy(ins: Instruction): Copy {
  if (ins.op !== 'COPY' && ins.op !== 'ADD') throw new Error(`line ${ins.line}: not a COPY`);
  let rest = ins.args;
  let from: string | undefined;
  for (;;) {
    const m = /^--(\w[\w-]*)(?:=(\S+))?\s+/.exec(rest);
    if (!m) break;
    if (m[1] === 'from') from = m[2];
    rest = rest.slice(m[0].length);
  }
  const parts = rest.startsWith('[') ? (JSON.parse(rest) as string[]) : rest.split(/\s+/);
  if (parts.length < 2) throw new Error(`line ${ins.line}: COPY needs a source and a destination`);
  return { from, sources: parts.slice(0, -1), dest: parts[parts.length - 1]! };
}

/** Shell words of a RUN in shell form, with `&&`, `;` and `|` as separate words. */
export function runWords(ins: Instruction): string[] {
  return ins.args.replace(/(&&|;|\|)/g, ' $1 ').split(/\s+/).filter(Boolean);
}

/** The commands of a shell-form RUN, split at `&&` and `;` (`apt-get install -y x`, `npm ci`). */
export function runCommands(ins: Instruction): string[][] {
  const cmds: string[][] = [[]];
  for (const w of runWords(ins)) {
    if (w === '&&' || w === ';') cmds.push([]);
    else cmds[cmds.length - 1]!.push(w);
  }
  return cmds.filter((c) => c.length > 0);
}

/** Resolves a COPY destination against the stage's WORKDIR at that point, as Docker does. */
export function absoluteDest(dest: string, workdir: string, source: string): string {
  const dir = dest.startsWith('/') ? dest : `${workdir.replace(/\/$/, '')}/${dest.replace(/^\.\/?/, '')}`;
  // A destination ending in '/' (or '.') receives the source under its own name.
  if (dest.endsWith('/') || dest === '.' || dest === './') return `${dir.replace(/\/$/, '')}/${source.split('/').pop()}`;
  return dir;
}
