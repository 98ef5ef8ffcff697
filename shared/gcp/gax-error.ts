import { LookupError } from '../errors.ts';
import { googleMessage, statusError } from './http.ts';

/**
 * Google client libraries (google-gax) fail with a gRPC status code, over gRPC and over their REST
 * transport alike; this maps it to the HTTP status Google's REST surface answers with, so every
 * failure is the same LookupError as a fetch would give (403 names the permission, 404 is absence).
 */

/** google.rpc.Code → HTTP status (https://cloud.google.com/apis/design/errors#handling_errors). */
const HTTP_OF_GRPC: Record<number, number> = {
  1: 499,
  2: 500,
  3: 400,
  4: 504,
  5: 404,
  6: 409,
  7: 403,
  8: 429,
  9: 400,
  10: 409,
  11: 400,
  12: 501,
  13: 500,
  14: 503,
  15: 500,
  16: 401,
};
const DEADLINE_EXCEEDED = 4;

/** A google-gax failure as a LookupError of `api`, never quoting the request (it held the token). */
export function gaxLookupError(
  error: unknown,
  { api, what, permission, timeoutMs }: { api: string; what: string; permission: string; timeoutMs: number },
): LookupError {
  if (error instanceof LookupError) return error;
  const failure = error as
    | {
        code?: unknown;
        status?: unknown;
        details?: unknown;
        message?: unknown;
        response?: { headers?: { get?: (name: string) => string | null } };
      }
    | undefined;
  // Over gRPC the code is a google.rpc.Code; over the REST transport the client may hand back the
  // HTTP error itself (a GaxiosError: `status` is the HTTP status, the message Google's error body).
  const http = typeof failure?.status === 'number' && failure.status >= 100 ? failure.status : undefined;
  const code = http === undefined ? failure?.code : undefined;
  const details = typeof failure?.details === 'string' ? failure.details : undefined;
  const body =
    http !== undefined && typeof failure?.message === 'string' ? googleMessage(failure.message) : undefined;
  const detail = details ? details.slice(0, 300) : body;
  if (code === DEADLINE_EXCEEDED) {
    return new LookupError(`${what}: ${api} did not answer within ${timeoutMs} ms`, {
      api,
      retryable: true,
      status: 504,
    });
  }
  const status = http ?? (typeof code === 'number' ? HTTP_OF_GRPC[code] : undefined);
  // A 429 over the REST transport may say when to come back.
  const retryAfter = http !== undefined ? failure?.response?.headers?.get?.('retry-after') : undefined;
  if (status !== undefined) return statusError({ api, what, permission }, status, detail, retryAfter);
  const message = (error as Error | undefined)?.message ?? String(error);
  return new LookupError(`${what}: could not reach ${api} (${message.slice(0, 200)})`, {
    api,
    retryable: true,
  });
}

/**
 * How a gax client reaches `apiUrl`: Google's own host over gRPC (the library's default), any other
 * URL (a fake in tests) over the REST transport, so a plain HTTP server can answer.
 */
export function gaxEndpoint(
  apiUrl: string,
  googleHost: string,
): { fallback: true; apiEndpoint: string; port: number; protocol: string } | undefined {
  const url = new URL(apiUrl);
  if (url.hostname === googleHost) return undefined;
  const protocol = url.protocol.replace(/:$/, '');
  return {
    fallback: true,
    apiEndpoint: url.hostname,
    port: Number(url.port || (protocol === 'http' ? 80 : 443)),
    protocol,
  };
}
