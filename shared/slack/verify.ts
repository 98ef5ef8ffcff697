import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Slack's request signature (https://docs.slack.dev/authentication/verifying-requests-from-slack):
 * `X-Slack-Signature: v0=` + hex HMAC-SHA256 of `v0:` + `X-Slack-Request-Timestamp` + `:` + the raw
 * body, keyed with the app's signing secret. Pure, with an injectable clock (after bolt-js's
 * verifySlackRequest). The reason of a rejection is for our logs only: callers answer every
 * rejection the same way, and neither the signature nor the secret ever goes into a reason.
 */

/** Slack's own window: a request more than five minutes off could be a replay. */
export const MAX_CLOCK_SKEW_SECONDS = 300;
/**
 * A slash command is a few hundred bytes of form fields (the typed text is short); 64 KiB leaves
 * room for anything Slack sends and is checked before any hashing.
 */
export const MAX_BODY_BYTES = 64 * 1024;

export type RejectReason =
  | 'missing-timestamp'
  | 'malformed-timestamp'
  | 'stale-timestamp'
  | 'missing-signature'
  | 'malformed-signature'
  | 'body-too-large'
  | 'bad-signature';

export type Verification = { ok: true } | { ok: false; reason: RejectReason };

export interface SignedRequest {
  /** X-Slack-Request-Timestamp, as received. */
  timestamp: string | undefined;
  /** X-Slack-Signature, as received. */
  signature: string | undefined;
  /** The body exactly as received: the bytes Slack signed. */
  rawBody: Uint8Array;
}

const TIMESTAMP = /^\d{1,12}$/;
const SIGNATURE = /^v0=([0-9a-f]{64})$/;

export function verifySlackRequest(
  signingSecret: string,
  request: SignedRequest,
  nowMs: number = Date.now(),
): Verification {
  if (request.rawBody.byteLength > MAX_BODY_BYTES) return { ok: false, reason: 'body-too-large' };
  if (request.timestamp === undefined || request.timestamp === '')
    return { ok: false, reason: 'missing-timestamp' };
  if (!TIMESTAMP.test(request.timestamp)) return { ok: false, reason: 'malformed-timestamp' };
  if (Math.abs(nowMs / 1000 - Number(request.timestamp)) > MAX_CLOCK_SKEW_SECONDS)
    return { ok: false, reason: 'stale-timestamp' };
  if (request.signature === undefined || request.signature === '')
    return { ok: false, reason: 'missing-signature' };
  const hex = SIGNATURE.exec(request.signature)?.[1];
  if (hex === undefined) return { ok: false, reason: 'malformed-signature' };
  const given = Buffer.from(hex, 'hex');
  const expected = signatureBytes(signingSecret, request.timestamp, request.rawBody);
  // Both are 32 bytes by construction, as timingSafeEqual requires.
  return given.length === expected.length && timingSafeEqual(given, expected)
    ? { ok: true }
    : { ok: false, reason: 'bad-signature' };
}

/**
 * What names one signed request whatever becomes of it: a digest of its signature, which covers its
 * timestamp and every byte of its body. The same request sent again (a replay, a retry) has the
 * same id; the signature itself is never stored or logged.
 */
export function requestIdOf(signature: string): string {
  return createHash('sha256').update(signature).digest('hex').slice(0, 32);
}

/**
 * How long a request's signature must be remembered: while its timestamp is still within the
 * window, plus a minute for clocks that disagree between instances.
 */
export function rememberUntil(timestamp: string): Date {
  return new Date((Number(timestamp) + MAX_CLOCK_SKEW_SECONDS + 60) * 1000);
}

function signatureBytes(secret: string, timestamp: string, body: Uint8Array): Buffer {
  return createHmac('sha256', secret).update(`v0:${timestamp}:`).update(body).digest();
}

/** The headers Slack would send with `body` at `timestampSeconds` (tests, the bench, the demo). */
export function signSlackRequest(
  signingSecret: string,
  body: string | Uint8Array,
  timestampSeconds: number = Math.floor(Date.now() / 1000),
): { 'x-slack-request-timestamp': string; 'x-slack-signature': string } {
  const timestamp = String(timestampSeconds);
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  return {
    'x-slack-request-timestamp': timestamp,
    'x-slack-signature': `v0=${signatureBytes(signingSecret, timestamp, bytes).toString('hex')}`,
  };
}
