import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix, relative, resolve } from 'node:path';
import type { IStatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { absoluteDest, execForm, parseCopy, parseDockerfile, parseInstructions, runCommands, type Instruction, type Stage } from './dockerfile.js';
import { kustomize } from './kubectl.js';
import { podSpec } from './stack.js';

const REPO = resolve(import.meta.dirname, '../..');
const DOCKERFILE = join(REPO, 'deploy/Dockerfile');
const NODE_IMAGE = 'node:20-bookworm-slim';

const df = parseDockerfile(readFileSync(DOCKERFILE, 'utf8'));
const build = () => stage('build');
const runtime = () => df.stages[df.stages.length - 1]!;

function stage(name: string): Stage {
  const s = df.stages.find((x) => x.name === name);
  if (!s) throw new Error(`deploy/Dockerfile has no stage named ${name}; stages: ${df.stages.map((x) => x.name ?? x.image).join(', ')}`);
  return s;
}

function ops(s: Stage, op: string): Instruction[] {
  return s.instructions.filter((i) => i.op === op);
}

function last(s: Stage, op: string): Instruction {
  const list = ops(s, op);
  if (list.length === 0) throw new Error(`stage ${s.name ?? s.image} has no ${op}`);
  return list[list.length - 1]!;
}

/** The WORKDIR in force at an instruction. */
function workdirAt(s: Stage, ins: Instruction): string {
  let wd = '/';
  for (const i of s.instructions) {
    if (i === ins) break;
    if (i.op === 'WORKDIR') wd = i.args.startsWith('/') ? i.args : posix.join(wd, i.args);
  }
  return wd;
}

/** Index of the first RUN whose commands include `cmd` (e.g. ['npm', 'ci']), or -1. */
function runIndex(s: Stage, cmd: string[]): number {
  return s.instructions.findIndex((i) => i.op === 'RUN' && runCommands(i).some((c) => cmd.every((w, k) => c[k] === w)));
}

/** Where each build-context path lands in a stage, in instruction order. */
function contextCopies(s: Stage): { index: number; source: string; dest: string }[] {
  const out: { index: number; source: string; dest: string }[] = [];
  s.instructions.forEach((ins, index) => {
    if (ins.op !== 'COPY') return;
    const c = parseCopy(ins);
    if (c.from) return;
    for (const source of c.sources) out.push({ index, source: source.replace(/^\.\//, ''), dest: absoluteDest(c.dest, workdirAt(s, ins), source) });
  });
  return out;
}

function parsedTsconfig(): ts.ParsedCommandLine {
  const host: ts.ParseConfigFileHost = {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(`tsconfig.json: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
    },
  };
  const parsed = ts.getParsedCommandLineOfConfigFile(join(REPO, 'tsconfig.json'), {}, host);
  if (!parsed) throw new Error('tsconfig.json could not be read');
  return parsed;
}

describe('deploy/Dockerfile', () => {
  it('parses into a build stage and a runtime stage, both on node:20-bookworm-slim', () => {
    expect(df.stages).toHaveLength(2);
    expect(df.stages[0]!.name).toBe('build');
    for (const s of df.stages) expect(s.image).toBe(NODE_IMAGE);
  });

  it('the reader fails on what it cannot read, so the checks below stand on a real parse', () => {
    expect(() => parseInstructions('FROM x\nRUN a \\\n')).toThrow(/ends inside a continued RUN/);
    expect(() => parseDockerfile('FROM ${NOPE}\n')).toThrow(/undeclared ARG NOPE/);
    expect(() => execForm({ op: 'CMD', args: 'node main.js', line: 1 })).toThrow(/shell form/);
    expect(parseInstructions('RUN a \\\n  # note\n  && b\n')).toEqual([{ op: 'RUN', args: 'a && b', line: 1 }]);
  });

  it('build stage: compilers for the native addons, then npm ci, npm run build, npm prune --omit=dev', () => {
    const b = build();
    const install = ops(b, 'RUN')
      .flatMap(runCommands)
      .find((c) => c[0] === 'apt-get' && c.includes('install'));
    expect(install, 'an apt-get install in the build stage').toBeDefined();
    for (const pkg of ['python3', 'make', 'g++']) expect(install).toContain(pkg);
    const ci = runIndex(b, ['npm', 'ci']);
    const compile = runIndex(b, ['npm', 'run', 'build']);
    const prune = b.instructions.findIndex((i) => i.op === 'RUN' && runCommands(i).some((c) => c[0] === 'npm' && c[1] === 'prune' && c.includes('--omit=dev')));
    expect(ci).toBeGreaterThanOrEqual(0);
    expect(compile).toBeGreaterThan(ci);
    expect(prune).toBeGreaterThanOrEqual(compile);
    // npm ci installs exactly the lockfile, so both files must be in place before it runs.
    const copies = contextCopies(b);
    for (const f of ['package.json', 'package-lock.json']) {
      const c = copies.find((x) => x.source === f);
      expect(c, `COPY ${f}`).toBeDefined();
      expect(c!.index).toBeLessThan(ci);
      expect(c!.dest).toBe(posix.join(workdirAt(b, b.instructions[ci]!), f));
    }
  });

  it('build stage: every path it copies exists, is not dockerignored, and keeps its place relative to the workdir', () => {
    const b = build();
    const ignore = readFileSync(join(REPO, 'deploy/Dockerfile.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    const wd = workdirAt(b, b.instructions[runIndex(b, ['npm', 'run', 'build'])]!);
    for (const c of contextCopies(b)) {
      expect(existsSync(join(REPO, c.source)), `COPY source ${c.source}`).toBe(true);
      for (const pattern of ignore) {
        const p = pattern.replace(/^\*\*\//, '');
        expect(c.source === p || c.source.startsWith(`${p}/`) || c.source.endsWith(`/${p}`), `${c.source} is excluded by dockerignore pattern ${pattern}`).toBe(false);
      }
      expect(c.dest, `COPY ${c.source}`).toBe(posix.join(wd, c.source));
    }
  });

  it('build stage: copies tsconfig.json and every file tsc compiles before npm run build', () => {
    const b = build();
    const compile = runIndex(b, ['npm', 'run', 'build']);
    const copied = contextCopies(b).filter((c) => c.index < compile).map((c) => c.source);
    expect(copied).toContain('tsconfig.json');
    const parsed = parsedTsconfig();
    expect(parsed.fileNames.length).toBeGreaterThan(0);
    const missing = parsed.fileNames.map((f) => relative(REPO, f)).filter((f) => !copied.some((src) => f === src || f.startsWith(`${src}/`)));
    expect(missing, 'compiled files the image build would not have').toEqual([]);
    const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
    expect(pkg.scripts?.build).toMatch(/\btsc\b/);
  });

  it('runtime stage: no compilers, only the built app from the build stage', () => {
    const r = runtime();
    for (const cmd of ops(r, 'RUN').flatMap(runCommands)) {
      for (const tool of ['g++', 'make', 'python3', 'npm']) expect(cmd, `runtime RUN ${cmd.join(' ')}`).not.toContain(tool);
    }
    const copies = ops(r, 'COPY').map(parseCopy);
    expect(copies.every((c) => c.from === 'build'), 'runtime copies only from the build stage').toBe(true);
    const wd = workdirAt(r, last(r, 'COPY'));
    const dests = copies.flatMap((c) => c.sources.map((src) => ({ src, dest: absoluteDest(c.dest, wd, src) })));
    for (const name of ['package.json', 'node_modules', 'dist']) {
      expect(dests, name).toContainEqual({ src: `/app/${name}`, dest: `/app/${name}` });
    }
  });

  it('runtime stage: package.json above dist/ declares ES modules, which the compiled code is', () => {
    const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { type?: string };
    expect(pkg.type).toBe('module');
    expect(parsedTsconfig().options.module).toBe(ts.ModuleKind.NodeNext);
  });

  it('runs the server as a fixed non-root uid, the one the StatefulSet runs as', () => {
    const user = last(runtime(), 'USER').args;
    const [uid, gid] = user.split(':');
    expect(uid, 'USER must be numeric so Kubernetes can verify runAsNonRoot').toMatch(/^\d+$/);
    expect(Number(uid)).toBeGreaterThan(0);
    const sts = kustomize(join(REPO, 'deploy/base')).find((o) => o.kind === 'StatefulSet') as IStatefulSet | undefined;
    expect(sts, 'server StatefulSet in deploy/base').toBeDefined();
    const sc = podSpec(sts!).securityContext;
    expect(sc?.runAsUser).toBe(Number(uid));
    expect(sc?.fsGroup).toBe(Number(gid ?? uid));
  });

  it('exposes the server port 3100 and the agent port 9080', () => {
    const ports = ops(runtime(), 'EXPOSE').flatMap((i) => i.args.split(/\s+/)).map((p) => p.replace(/\/tcp$/, ''));
    expect(ports).toEqual(expect.arrayContaining(['3100', '9080']));
  });

  it('ENTRYPOINT runs node on the compiled CLI, CMD defaults to the server', () => {
    expect(execForm(last(runtime(), 'ENTRYPOINT'))).toEqual(['node', '/app/dist/src/cli/main.js']);
    expect(execForm(last(runtime(), 'CMD'))).toEqual(['server']);
  });

  it('the ENTRYPOINT path is where tsc really emits src/cli/main.ts, carried into the runtime stage', () => {
    const parsed = parsedTsconfig();
    const mainTs = join(REPO, 'src/cli/main.ts');
    expect(parsed.fileNames).toContain(mainTs);
    const emittedJs = ts.getOutputFileNames(parsed, mainTs, false).find((f) => f.endsWith('.js'));
    expect(emittedJs).toBeDefined();
    const outDir = parsed.options.outDir;
    expect(outDir, 'tsconfig outDir').toBeDefined();

    // Really compile the entry module with the project's options (only outDir moved to a temp dir).
    const tmp = mkdtempSync(join(tmpdir(), 'narvi-tsc-'));
    try {
      const program = ts.createProgram([mainTs], { ...parsed.options, outDir: tmp });
      program.emit();
      const inTmp = join(tmp, relative(outDir!, emittedJs!));
      expect(existsSync(inTmp), `tsc emitted ${relative(outDir!, emittedJs!)} under outDir`).toBe(true);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }

    // In the build stage the repo root is the workdir, so the file is at <workdir>/dist/src/cli/main.js …
    const b = build();
    const inBuild = posix.join(workdirAt(b, b.instructions[runIndex(b, ['npm', 'run', 'build'])]!), relative(REPO, emittedJs!).split('\\').join('/'));
    // … and the runtime stage copies it from there to the path ENTRYPOINT runs.
    const entry = execForm(last(runtime(), 'ENTRYPOINT'))[1]!;
    const r = runtime();
    const wd = workdirAt(r, last(r, 'COPY'));
    const carried = ops(r, 'COPY')
      .map(parseCopy)
      .flatMap((c) => c.sources.map((src) => ({ src, dest: absoluteDest(c.dest, wd, src) })))
      .find((c) => entry.startsWith(`${c.dest}/`));
    expect(carried, `a runtime COPY that provides ${entry}`).toBeDefined();
    expect(carried!.src + entry.slice(carried!.dest.length)).toBe(inBuild);
  });
});
