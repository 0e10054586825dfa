import v8 from 'node:v8';
import vm from 'node:vm';

// A big push leaves its body, its columns and its WAL records as garbage outside the JS heap. V8 frees
// such memory only when a later allocation triggers a collection, so an idle server would keep the
// peak for as long as nobody pushes. One full collection after a big push returns it at once.
let gc: (() => void) | null = null;
try {
  v8.setFlagsFromString('--expose-gc');
  gc = vm.runInNewContext('gc') as () => void;
} catch {
  gc = null;
}

const MIN_BODY = 16 * 1024 * 1024;
const MIN_INTERVAL_MS = 2000;
let last = 0;
let pending: NodeJS.Timeout | null = null;

/** After a request whose body was at least 16 MiB: one full collection, at most every 2 s. */
export function releaseAfterBigBody(bodyBytes: number): void {
  if (!gc || bodyBytes < MIN_BODY || pending) return;
  const wait = Math.max(50, last + MIN_INTERVAL_MS - Date.now());
  pending = setTimeout(() => {
    pending = null;
    last = Date.now();
    gc!();
  }, wait);
  pending.unref();
}
