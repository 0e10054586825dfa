import { closeSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { formatRFC3339Nano } from '../../src/model/time.js';

interface PodFile {
  dir: string;
  container: string;
  restart: number;
  fd: number;
  size: number;
  lastTs: bigint;
  seq: number;
  rotations: number;
  key: string;
}

/**
 * A stand-in for kubelet + container runtime: writes CRI lines into `<root>/<ns>_<pod>_<uid>/<container>/<n>.log`
 * and rotates like kubelet does (rename to `<n>.log.<timestamp>`, create a new `<n>.log`, keep the newest few).
 * Every line carries `<key> seq=<n>` so the test can account for each one.
 */
export class KubeletSim {
  private files: PodFile[] = [];
  written = new Map<string, number>();
  totalLines = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly root: string,
    private readonly o: { rotateBytes: number; keep: number; linesPerTick: number; tickMs: number },
  ) {}

  addPod(i: number): void {
    const dir = join(this.root, `ns${i % 3}_pod-${i}_uid-${i}`, 'app');
    mkdirSync(dir, { recursive: true });
    const f: PodFile = { dir, container: 'app', restart: 0, fd: -1, size: 0, lastTs: 0n, seq: 0, rotations: 0, key: `pod-${i}` };
    f.fd = openSync(join(dir, '0.log'), 'a');
    this.files.push(f);
  }

  /** The container restarts: kubelet starts writing `<n+1>.log`. */
  restartContainer(i: number): void {
    const f = this.files.find((x) => x.key === `pod-${i}`)!;
    closeSync(f.fd);
    f.restart++;
    f.fd = openSync(join(f.dir, `${f.restart}.log`), 'a');
    f.size = 0;
  }

  start(): void {
    this.timer = setInterval(() => this.tick(), this.o.tickMs);
  }

  stop(): void {
    clearInterval(this.timer);
    for (const f of this.files) closeSync(f.fd);
  }

  private tick(): void {
    const now = BigInt(Date.now()) * 1_000_000n;
    for (const f of this.files) {
      let buf = '';
      for (let k = 0; k < this.o.linesPerTick; k++) {
        const ts = now > f.lastTs ? now : f.lastTs + 1n;
        f.lastTs = ts;
        f.seq++;
        const stream = f.seq % 7 === 0 ? 'stderr' : 'stdout';
        const content = `${f.key} seq=${f.seq} some payload to make the line look like a real log line`;
        if (f.seq % 11 === 0) {
          // A long line split by the runtime into partials.
          const half = Math.floor(content.length / 2);
          buf += `${formatRFC3339Nano(ts)} ${stream} P ${content.slice(0, half)}\n${formatRFC3339Nano(ts)} ${stream} F ${content.slice(half)}\n`;
        } else {
          buf += `${formatRFC3339Nano(ts)} ${stream} F ${content}\n`;
        }
      }
      const b = Buffer.from(buf);
      writeSync(f.fd, b);
      f.size += b.length;
      this.totalLines += this.o.linesPerTick;
      this.written.set(f.key, f.seq);
      if (f.size >= this.o.rotateBytes) this.rotate(f);
    }
  }

  private rotate(f: PodFile): void {
    const name = `${f.restart}.log`;
    const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
    f.rotations++;
    renameSync(join(f.dir, name), join(f.dir, `${name}.${stamp}.${String(f.rotations).padStart(4, '0')}`));
    closeSync(f.fd);
    f.fd = openSync(join(f.dir, name), 'a');
    f.size = 0;
    const rotated = readdirSync(f.dir).filter((n) => n.startsWith(name + '.')).sort();
    for (const old of rotated.slice(0, Math.max(0, rotated.length - this.o.keep))) rmSync(join(f.dir, old));
  }
}
