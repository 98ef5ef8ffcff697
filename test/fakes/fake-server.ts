/**
 * What the fake Google and Kubernetes API servers share: a server on 127.0.0.1 (a free port), HTTP or
 * HTTPS with a throwaway test CA made by openssl, a bearer-token check, added latency, scripted faults
 * per route, and a record of every call (never the token itself).
 *
 *   fake.fault({ match: ':getIamPolicy', status: 403 });              // every matching call, until cleared
 *   fake.fault({ match: /\/clusters\/p\/l\/c\//, hang: true });        // never answers (until stop())
 *   fake.fault({ match: 'serviceAccounts', status: 429, retryAfter: 1, times: 1 });
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface FakeCall {
  /** Which fake answered: `gke`, `iam`, `kubernetes`. */
  api: string;
  /** What was asked, e.g. `gke.listClusters`, `iam.getIamPolicy`, `kubernetes.listPods`. */
  kind: string;
  method: string;
  /** The path, without the query. */
  path: string;
  query: Record<string, string>;
  body: unknown;
  /** Whether it carried the expected bearer token (the token itself is never recorded). */
  authorized: boolean;
  /** Who the token belongs to: `default` for the expected one, a name acceptToken gave otherwise. */
  caller?: string;
  /** The HTTP status answered, or 'hang'. */
  answered: number | 'hang';
  /** Date.now() when the request had arrived. */
  at: number;
}

export interface FakeFault {
  /** Matched against `METHOD /path?query` (the path decoded): a string must occur in it, a RegExp must match it. */
  match: string | RegExp;
  /** Default 500. */
  status?: number;
  /** Seconds, sent as Retry-After. */
  retryAfter?: number;
  /** Never answer (until stop()). */
  hang?: boolean;
  /** The body; default the API's own error shape. */
  body?: unknown;
  /** How many matching requests it applies to; default all. */
  times?: number;
}

export interface FakeRequest {
  method: string;
  path: string;
  /** The query, one value a name (the last); `params` keeps repeated names (`assetTypes=A&assetTypes=B`). */
  query: Record<string, string>;
  params: URLSearchParams;
  body: unknown;
  /** Who called (see FakeCall.caller); undefined without an accepted token. */
  caller?: string | undefined;
}

export interface FakeAnswer {
  status: number;
  body: unknown;
  /** `body` already serialized (a fake that serves the same large answer again keeps it). */
  text?: string;
  headers?: Record<string, string>;
}

export interface FakeRoute {
  kind: string;
  answer: () => FakeAnswer;
  /** Answered without a token (what a function serves the internet, say). */
  public?: boolean;
}

export interface FakeServer {
  /** `http(s)://127.0.0.1:PORT` */
  url: string;
  port: number;
  /** Every call, in order of arrival (a live array). */
  calls: FakeCall[];
  fault(fault: FakeFault): void;
  clearFaults(): void;
  /** Milliseconds added before every answer. */
  latencyMs: number;
  stop(): Promise<void>;
}

export interface FakeServerOptions {
  api: string;
  token: string;
  /** Other tokens it accepts, named by caller (an impersonated identity); undefined: refused. */
  acceptToken?: (token: string) => string | undefined;
  route: (request: FakeRequest) => FakeRoute;
  /** The API's error body for a status (Google's `{ error }`, Kubernetes' Status). */
  errorBody: (status: number, message: string) => unknown;
  latencyMs?: number;
  tls?: { key: string; cert: string };
}

export async function startFakeServer(options: FakeServerOptions): Promise<FakeServer> {
  const calls: FakeCall[] = [];
  let faults: (FakeFault & { used: number })[] = [];
  let stopped = false;

  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      void serve(req, res, Buffer.concat(chunks).toString('utf8'));
    });
  };

  async function serve(req: IncomingMessage, res: ServerResponse, raw: string) {
    const url = new URL(req.url ?? '/', 'http://fake');
    const header = req.headers.authorization ?? '';
    const presented = header.startsWith('Bearer ') ? header.slice('Bearer '.length) : undefined;
    const caller =
      presented === undefined
        ? undefined
        : presented === options.token
          ? 'default'
          : options.acceptToken?.(presented);
    const request: FakeRequest = {
      method: req.method ?? 'GET',
      path: decodeURIComponent(url.pathname),
      query: Object.fromEntries(url.searchParams),
      params: url.searchParams,
      body: parseBody(raw),
      caller,
    };
    const authorized = caller !== undefined;
    const route = options.route(request);
    const call: FakeCall = {
      api: options.api,
      kind: route.kind,
      method: request.method,
      path: request.path,
      query: request.query,
      body: request.body,
      authorized,
      ...(caller === undefined ? {} : { caller }),
      answered: 'hang',
      at: Date.now(),
    };
    calls.push(call);
    const target = `${request.method} ${request.path}${url.search}`;
    const fault = faults.find((candidate) => matches(candidate, target));
    if (fault) fault.used += 1;
    if (fault?.hang) return; // the socket stays open until the client gives up or stop() ends it
    if (server.latencyMs > 0) await sleep(server.latencyMs);
    if (stopped) return;
    let answer: FakeAnswer;
    if (!authorized && !route.public) {
      answer = {
        status: 401,
        body: options.errorBody(401, 'Request had invalid authentication credentials.'),
      };
    } else if (fault) {
      const status = fault.status ?? 500;
      answer = {
        status,
        body: fault.body ?? options.errorBody(status, `fault injected for ${target}`),
        ...(fault.retryAfter === undefined ? {} : { headers: { 'retry-after': String(fault.retryAfter) } }),
      };
    } else {
      answer = route.answer();
    }
    call.answered = answer.status;
    res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
    res.end(answer.text ?? JSON.stringify(answer.body));
  }

  function matches(fault: FakeFault & { used: number }, target: string): boolean {
    if (fault.times !== undefined && fault.used >= fault.times) return false;
    return typeof fault.match === 'string' ? target.includes(fault.match) : fault.match.test(target);
  }

  const http = options.tls ? createHttpsServer(options.tls, handler) : createHttpServer(handler);
  http.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;

  const server: FakeServer = {
    url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    port,
    calls,
    latencyMs: options.latencyMs ?? 0,
    fault(fault) {
      faults.push({ ...fault, used: 0 });
    },
    clearFaults() {
      faults = [];
    },
    async stop() {
      stopped = true;
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
  return server;
}

function parseBody(raw: string): unknown {
  if (raw === '') return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

/** Sets `key` to `value`, or forgets it when `value` is undefined: how the fakes' setters change state. */
export function putOrDelete<K, V>(map: Map<K, V>, key: K, value: V | undefined): void {
  if (value === undefined) map.delete(key);
  else map.set(key, value);
}

/** What a Google fake answers for a method it does not serve: Google's 404, naming the request. */
export function unknownMethod(api: string, request: { method: string; path: string }): FakeRoute {
  return {
    kind: `${api}.unknown`,
    answer: () => ({
      status: 404,
      body: googleError(404, `no such method: ${request.method} ${request.path}`),
    }),
  };
}

/** A fake of a Google API: Google's error body, the options every Google fake takes. */
export function startGoogleFake(
  api: string,
  options: { token: string; latencyMs?: number },
  route: FakeServerOptions['route'],
  acceptToken?: FakeServerOptions['acceptToken'],
): Promise<FakeServer> {
  return startFakeServer({
    api,
    token: options.token,
    route,
    errorBody: googleError,
    ...(acceptToken === undefined ? {} : { acceptToken }),
    ...(options.latencyMs === undefined ? {} : { latencyMs: options.latencyMs }),
  });
}

/** Google's error body: `{ error: { code, message, status } }`. */
export function googleError(status: number, message: string): unknown {
  const names: Record<number, string> = {
    400: 'INVALID_ARGUMENT',
    401: 'UNAUTHENTICATED',
    403: 'PERMISSION_DENIED',
    404: 'NOT_FOUND',
    409: 'ABORTED',
    429: 'RESOURCE_EXHAUSTED',
    500: 'INTERNAL',
    503: 'UNAVAILABLE',
    504: 'DEADLINE_EXCEEDED',
  };
  return { error: { code: status, message, status: names[status] ?? 'UNKNOWN' } };
}

export interface TestCertificates {
  /** PEM of the CA that signed `cert`. */
  caPem: string;
  key: string;
  /** For 127.0.0.1 and localhost. */
  cert: string;
}

let certificates: TestCertificates | undefined;

/** A throwaway CA and a server certificate for 127.0.0.1 / localhost, made once per process by openssl. */
export function testCertificates(): TestCertificates {
  certificates ??= generateCertificates();
  return certificates;
}

/** A new throwaway CA and server certificate (testCertificates() shares one per process). */
export function generateCertificates(): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'wi-fake-tls-'));
  const file = (name: string) => join(dir, name);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  writeFileSync(
    file('server.ext'),
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n',
  );
  openssl([
    'req',
    '-x509',
    ...ec,
    '-keyout',
    file('ca.key'),
    '-out',
    file('ca.pem'),
    '-days',
    '2',
    '-subj',
    '/CN=wi-sentinel test CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  openssl([
    'req',
    ...ec,
    '-keyout',
    file('server.key'),
    '-out',
    file('server.csr'),
    '-subj',
    '/CN=127.0.0.1',
  ]);
  openssl([
    'x509',
    '-req',
    '-in',
    file('server.csr'),
    '-CA',
    file('ca.pem'),
    '-CAkey',
    file('ca.key'),
    '-CAcreateserial',
    '-out',
    file('server.pem'),
    '-days',
    '2',
    '-extfile',
    file('server.ext'),
  ]);
  const made = {
    caPem: readFileSync(file('ca.pem'), 'utf8'),
    key: readFileSync(file('server.key'), 'utf8'),
    cert: readFileSync(file('server.pem'), 'utf8'),
  };
  rmSync(dir, { recursive: true, force: true });
  return made;
}

function openssl(args: string[]): void {
  const run = spawnSync('openssl', args, { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`openssl ${args[0]} failed: ${run.error?.message ?? run.stderr}`);
}
