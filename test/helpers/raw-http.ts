import { connect } from 'node:net';

export interface RawResponse {
  status: number;
  head: string;
  body: string;
}

/**
 * Sends `request` bytes exactly as given over a fresh TCP connection (fetch would refuse or re-encode odd
 * header bytes) and reads until the server closes or the response is complete.
 */
export function rawRequest(url: string, request: Buffer, timeoutMs = 10_000): Promise<RawResponse> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const sock = connect(Number(u.port), u.hostname);
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no complete answer within ${timeoutMs} ms to ${JSON.stringify(request.toString('latin1').slice(0, 200))}`));
    }, timeoutMs);
    const finish = () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('utf8');
      const cut = text.indexOf('\r\n\r\n');
      const head = cut >= 0 ? text.slice(0, cut) : text;
      const m = /^HTTP\/1\.1 (\d{3})/.exec(head);
      if (!m) return reject(new Error(`no HTTP status line in ${JSON.stringify(text.slice(0, 300))}`));
      resolve({ status: Number(m[1]), head, body: cut >= 0 ? text.slice(cut + 4) : '' });
    };
    sock.on('data', (d: Buffer) => {
      chunks.push(d);
      const text = Buffer.concat(chunks).toString('latin1');
      const cut = text.indexOf('\r\n\r\n');
      if (cut < 0) return;
      const len = /content-length: (\d+)/i.exec(text.slice(0, cut));
      if (len && text.length - cut - 4 >= Number(len[1])) {
        sock.destroy();
        finish();
      }
    });
    sock.on('end', finish);
    sock.on('error', (err) => {
      clearTimeout(timer);
      if (chunks.length > 0) finish();
      else reject(err);
    });
    sock.write(request);
  });
}
