import { request } from 'node:http';
import { createGzip } from 'node:zlib';

/**
 * Requests as an attacker sends them, for the hostile suite and the hostile bench: exact headers, a
 * body with its length or chunked without one, and how far the upload got when the answer came.
 */
export interface RawAnswer {
  /** The HTTP status, or the error code when there was no answer (ECONNRESET, EPIPE). */
  status: number | string;
  text: string;
  headers: Record<string, string | string[] | undefined>;
  /** Body bytes the client had written when the answer (or the error) arrived. */
  sentBytes: number;
  ms: number;
}

/**
 * A body with its length, chunks sent chunked (with a pause between them, if any), or only a
 * declared length: the headers go out and the body never does (what an answer refusing by the
 * length alone must not wait for).
 */
export type RawBody = Buffer | { chunk: Buffer; count: number; pauseMs?: number } | { declaredBytes: number };

export function sendRaw(
  url: string,
  body: RawBody,
  headers: Record<string, string>,
  method = 'POST',
): Promise<RawAnswer> {
  const started = performance.now();
  return new Promise((resolve) => {
    let sentBytes = 0;
    let done = false;
    const req = request(url, {
      method,
      headers: {
        ...headers,
        ...(Buffer.isBuffer(body) ? { 'content-length': String(body.length) } : {}),
        ...('declaredBytes' in body ? { 'content-length': String(body.declaredBytes) } : {}),
      },
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        done = true;
        resolve({
          status: res.statusCode ?? 0,
          text: Buffer.concat(chunks).toString('utf8'),
          headers: res.headers,
          sentBytes,
          ms: performance.now() - started,
        });
      });
      res.on('error', () => undefined);
    });
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (done) return;
      done = true;
      resolve({
        status: error.code ?? 'error',
        text: '',
        headers: {},
        sentBytes,
        ms: performance.now() - started,
      });
    });
    if (Buffer.isBuffer(body)) {
      sentBytes = body.length;
      req.end(body);
      return;
    }
    if ('declaredBytes' in body) {
      // The server answers and closes the connection; the body is never sent.
      req.flushHeaders();
      return;
    }
    let written = 0;
    const next = async () => {
      while (written < body.count && !done) {
        written += 1;
        sentBytes += body.chunk.length;
        const flushed = req.write(body.chunk);
        if (body.pauseMs) await new Promise((r) => setTimeout(r, body.pauseMs));
        else if (!flushed) {
          req.once('drain', () => void next());
          return;
        }
      }
      if (!done) req.end();
    };
    void next();
  });
}

/** gzip of `megabytes` MiB of zeros, compressed piece by piece (never held inflated): about 1 KB a MiB. */
export async function gzipBomb(megabytes: number): Promise<Buffer> {
  const gzip = createGzip({ level: 9 });
  const out: Buffer[] = [];
  gzip.on('data', (chunk: Buffer) => out.push(chunk));
  const ended = new Promise((resolve) => gzip.on('end', resolve));
  const zeros = Buffer.alloc(1024 * 1024);
  for (let i = 0; i < megabytes; i++) {
    if (!gzip.write(zeros)) await new Promise((resolve) => gzip.once('drain', resolve));
  }
  gzip.end();
  await ended;
  return Buffer.concat(out);
}

/** `[0,0,…,0]` of about `bytes` bytes: what a JSON parser turns into millions of numbers. */
export function zerosArray(bytes: number): Buffer {
  // ',0' repeated puts '0' at every odd index: an odd length ends on one, replaced by ']'.
  const body = Buffer.alloc(bytes % 2 === 1 ? bytes : bytes - 1, ',0');
  body[0] = 0x5b;
  body[body.length - 1] = 0x5d;
  return body;
}
