import { subscribe } from 'node:diagnostics_channel';
import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import { MAX_DELIVERY_BASE64 } from '../shared/events/decode.ts';
import type { Logger } from '../shared/log.ts';

/**
 * The bounds every request meets before functions-framework's own body parsers see it. Those read,
 * inflate and parse whatever arrives up to 1 GB (`requestLimit = '1024mb'` in its server.ts, gzip
 * and deflate inflated first), before any handler can look at a size or a signature: a 600 KB gzip
 * body that inflates to 600 MB costs 600 MB. The framework has no option to change that, so this
 * gate stands in front of its express app on the same server:
 *
 * - only identity encoding is taken (415 otherwise): nothing is ever inflated;
 * - a declared Content-Length over the target's cap is refused at once (413), unread;
 * - the body is read here, and reading stops at the cap (413 at once, the connection closed): no
 *   more than the cap is ever buffered, and no request takes longer than `readTimeoutMs` to send;
 * - an HTTP target that verifies a signature over its raw bytes (wiStatus) gets them as `rawBody`
 *   and nothing parses them before it; an event target gets JSON that is a Pub/Sub push or a
 *   CloudEvent (400 otherwise: no retry makes anything else one).
 *
 * A request the gate has read to its end looks "already parsed" to body-parser (it skips a finished
 * stream), so the framework goes on exactly as before with the body the gate left. What the
 * framework itself still refuses (an event it cannot convert) gets the same treatment as the gate's
 * refusals: one short text answer and one structured log line naming the reason, never a stack
 * trace or a path.
 *
 * How it gets in front: Node publishes `http.server.request.start` (node:diagnostics_channel)
 * synchronously before it emits `request`; on a server's first request the gate takes the
 * framework's listener (its express app) and puts itself in its place, for that request and every
 * later one.
 */

export interface BodyBounds {
  /**
   * `raw`: an HTTP function that checks a signature over the exact bytes (`req.rawBody`);
   * `event`: a CloudEvent function, fed a Pub/Sub push body or a CloudEvent as JSON.
   */
  kind: 'raw' | 'event';
  /** The most bytes a body may have. */
  maxBytes: number;
  /** How long the whole body may take to arrive. */
  readTimeoutMs: number;
}

/**
 * The largest body an event function reads. Pub/Sub takes messages up to 10 MB
 * (https://cloud.google.com/pubsub/quotas#resource_limits), but none of ours comes near: a delivery
 * holds one LogEntry, which Cloud Logging caps at 256 KB and decoding refuses past 1 MiB
 * (events/decode.ts), so its push is that in base64 plus the envelope. Parsing a 10 MB push costs
 * about three times that on V8's heap: eight at once (auditEvents' concurrency) would not fit the
 * heap of a 512 MiB function. A larger body is not one of ours and is refused unread (413); if
 * Pub/Sub sent it, it redelivers it to the dead-letter topic after its retries, where it can be
 * looked at.
 */
export const EVENT_BODY_MAX_BYTES = MAX_DELIVERY_BASE64 + 512 * 1024;

export const EVENT_BOUNDS: BodyBounds = {
  kind: 'event',
  maxBytes: EVENT_BODY_MAX_BYTES,
  readTimeoutMs: 30_000,
};

type Refusal = { status: number; reason: string; answer: string; fields?: Record<string, unknown> };

type GatedRequest = IncomingMessage & { rawBody?: Buffer; body?: unknown };

/** The framework's express app, as far as the gate needs it. */
type App = RequestListener & { use?: (handler: unknown) => unknown };

const gated = new WeakSet<Server>();

/**
 * Puts the gate in front of whatever serves requests in this process (functions-framework's app).
 * Call it once, before the server takes its first request.
 */
export function installBodyGate(bounds: BodyBounds, logger: Logger, target?: string): void {
  subscribe('http.server.request.start', (message) => {
    const { server } = message as { server?: Server };
    if (server === undefined || gated.has(server)) return;
    gated.add(server);
    const listeners = server.listeners('request') as App[];
    for (const app of listeners) {
      server.removeListener('request', app);
      answerFrameworkErrors(app, logger, target);
      server.on('request', createGate(app, bounds, logger, target));
    }
  });
}

function createGate(
  app: RequestListener,
  bounds: BodyBounds,
  logger: Logger,
  target?: string,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    void admit(req as GatedRequest, bounds).then(
      (refusal) => {
        if (refusal === undefined) app(req, res);
        else refuse(req, res, refusal, logger, target);
      },
      (error: unknown) =>
        refuse(
          req,
          res,
          { status: 400, reason: `unreadable body: ${describe(error)}`, answer: 'bad request' },
          logger,
          target,
        ),
    );
  };
}

/** Reads and checks the body; returns why it is refused, or nothing when the request may go on. */
async function admit(req: GatedRequest, bounds: BodyBounds): Promise<Refusal | undefined> {
  if (bounds.kind === 'event' && req.method !== 'POST') {
    return { status: 405, reason: `method ${req.method}`, answer: 'method not allowed' };
  }
  const encoding = (header(req, 'content-encoding') ?? '').trim().toLowerCase();
  if (encoding !== '' && encoding !== 'identity') {
    return {
      status: 415,
      reason: `content encoding ${JSON.stringify(encoding.slice(0, 40))}: only identity is taken`,
      answer: 'unsupported content encoding',
    };
  }
  const declared = header(req, 'content-length');
  if (declared !== undefined && Number(declared) > bounds.maxBytes) {
    return tooLarge(bounds, { declaredBytes: Number(declared) });
  }
  const read = await readBounded(req, bounds);
  if (read.outcome !== 'read') {
    if (read.outcome === 'too-large') return tooLarge(bounds, { readBytes: read.bytes });
    return {
      status: 408,
      reason: `the body took longer than ${bounds.readTimeoutMs} ms to arrive`,
      answer: 'request timeout',
      fields: { readBytes: read.bytes },
    };
  }
  if (bounds.kind === 'raw') {
    req.rawBody = read.body;
    return undefined;
  }
  // Only the parsed event is kept: the bytes are garbage as soon as it is parsed.
  const event = eventBody(req, read.body);
  if (typeof event === 'string') {
    return { status: 400, reason: event, answer: 'not a Pub/Sub push or CloudEvent' };
  }
  req.body = event.body;
  return undefined;
}

function tooLarge(bounds: BodyBounds, fields: Record<string, unknown>): Refusal {
  return {
    status: 413,
    reason: `body over the ${bounds.maxBytes}-byte limit`,
    answer: 'request too large',
    fields,
  };
}

type Read = { outcome: 'read'; body: Buffer } | { outcome: 'too-large' | 'timeout'; bytes: number };

/**
 * The body, or why it was not read to its end: never more than `maxBytes` held. With a declared
 * length (already checked against the cap) the body goes straight into one buffer of that size.
 */
function readBounded(req: IncomingMessage, bounds: BodyBounds): Promise<Read> {
  return new Promise((resolve, reject) => {
    const declared = Number(header(req, 'content-length'));
    const whole = Number.isSafeInteger(declared) && declared >= 0 ? Buffer.allocUnsafe(declared) : undefined;
    const chunks: Buffer[] = [];
    let bytes = 0;
    const timer = setTimeout(() => finish({ outcome: 'timeout', bytes }), bounds.readTimeoutMs);
    function finish(read: Read | Error) {
      clearTimeout(timer);
      req.off('data', onData).off('end', onEnd).off('error', finish).off('aborted', onAborted);
      if (read instanceof Error) reject(read);
      else {
        // Whatever is still on the way is not read: the refusal closes the connection.
        if (read.outcome !== 'read') req.pause();
        resolve(read);
      }
    }
    function onData(chunk: Buffer) {
      const end = bytes + chunk.length;
      if (end > bounds.maxBytes || (whole !== undefined && end > whole.length)) {
        chunks.length = 0;
        finish({ outcome: 'too-large', bytes: end });
        return;
      }
      if (whole) chunk.copy(whole, bytes);
      else chunks.push(chunk);
      bytes = end;
    }
    const onEnd = () =>
      finish({ outcome: 'read', body: whole ? whole.subarray(0, bytes) : Buffer.concat(chunks, bytes) });
    const onAborted = () => finish(new Error('the client went away'));
    req.on('data', onData).on('end', onEnd).on('error', finish).on('aborted', onAborted);
  });
}

/**
 * What an event function is fed: a Pub/Sub push body (`message`) or a CloudEvent, structured
 * (`specversion`, `type`, `id` in the body) or binary (`ce-*` headers, the data as the body).
 * Anything else is not something Pub/Sub or Eventarc sends: the reason, to be refused.
 */
function eventBody(req: IncomingMessage, raw: Buffer): { body: Record<string, unknown> } | string {
  const type = (header(req, 'content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (type !== 'application/json' && type !== 'application/cloudevents+json') {
    return `content type ${JSON.stringify(type.slice(0, 60) || 'none')}: not JSON`;
  }
  if (raw.length === 0) return 'an empty body';
  let value: unknown;
  try {
    value = JSON.parse(raw.toString('utf8'));
  } catch (error) {
    return `not JSON (${describe(error)})`;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return `the body is ${Array.isArray(value) ? 'an array' : value === null ? 'null' : `a ${typeof value}`}, not an object`;
  }
  const body = value as Record<string, unknown>;
  const binary = ['ce-specversion', 'ce-type', 'ce-id', 'ce-source'].every((name) => header(req, name));
  const structured = typeof body.specversion === 'string' && typeof body.type === 'string';
  const push = typeof body.message === 'object' && body.message !== null && !Array.isArray(body.message);
  if (binary || structured || push) return { body };
  return 'neither a Pub/Sub push body (message) nor a CloudEvent (specversion, type)';
}

/**
 * What the framework refuses by itself after the gate (an event it cannot convert, say) reaches
 * express's error handler, which would answer an HTML page with the stack trace unless NODE_ENV is
 * production, and log the stack unstructured. This error handler, added after the framework's own
 * middleware and route, answers as the gate does instead.
 */
function answerFrameworkErrors(app: App, logger: Logger, target: string | undefined): void {
  if (typeof app.use !== 'function') return;
  app.use((error: unknown, req: IncomingMessage, res: ServerResponse, _next: unknown) => {
    const status = statusOf(error);
    refuse(
      req,
      res,
      {
        status,
        reason: `the framework refused it: ${describe(error)}`,
        answer: status === 413 ? 'request too large' : 'bad request',
      },
      logger,
      target,
    );
  });
}

function refuse(
  req: IncomingMessage,
  res: ServerResponse,
  { status, reason, answer, fields = {} }: Refusal,
  logger: Logger,
  target: string | undefined,
): void {
  logger.log('WARNING', `request refused: ${reason}`, {
    ...(target ? { target } : {}),
    status,
    reason,
    method: req.method,
    ...fields,
    ...(req.socket.remoteAddress ? { ip: req.socket.remoteAddress } : {}),
    userAgent: String(header(req, 'user-agent') ?? '').slice(0, 100),
  });
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'cache-control': 'no-store',
    // What the client is still sending is not read: the connection ends with this answer.
    connection: 'close',
    ...(status === 405 ? { allow: 'POST' } : {}),
  });
  res.end(answer);
}

/** A 4xx an error carries (body-parser's, http-errors'), else 400: it is about the request. */
function statusOf(error: unknown): number {
  const { status, statusCode } = (error ?? {}) as { status?: unknown; statusCode?: unknown };
  const code = typeof status === 'number' ? status : typeof statusCode === 'number' ? statusCode : 400;
  return code >= 400 && code < 500 ? code : 400;
}

/** An error's name and message, one line, bounded: never its stack (paths) nor the body it quotes. */
function describe(error: unknown): string {
  const { name, message } = (error ?? {}) as { name?: unknown; message?: unknown };
  const text = `${typeof name === 'string' ? name : 'Error'}: ${typeof message === 'string' ? message : String(error)}`;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is replaced
  const line = text.replace(/[\u0000-\u001f\u007f]+/g, ' ');
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * The target this process serves, found as functions-framework finds it: `--target NAME` or
 * `--target=NAME` on its command line, else FUNCTION_TARGET (which Cloud Run functions sets).
 */
export function servedTarget(argv: readonly string[], env: NodeJS.ProcessEnv): string | undefined {
  for (const [index, arg] of argv.entries()) {
    if (arg.startsWith('--target=')) return arg.slice('--target='.length) || undefined;
    if (arg === '--target') return argv[index + 1];
  }
  return env.FUNCTION_TARGET || undefined;
}
