/**
 * Removes credentials from log text before any of it is kept as a sample, stored or sent to Slack
 * and PagerDuty. Failing logs are exactly where applications print tokens (an Authorization header
 * in a debug dump, a token endpoint's request body), so every sample goes through `redact`.
 *
 * Order matters: whole private keys and JWTs go first, so their pieces are not half-matched by the
 * narrower rules after them. Every pattern is linear (no nested quantifiers), as the input is
 * whatever a workload printed.
 */

const REDACTED = '[REDACTED]';

/** Field names whose values are credentials, in query strings, form bodies, JSON and Python reprs. */
const SECRET_FIELDS = [
  'access_token',
  'refresh_token',
  'id_token',
  'client_secret',
  'private_key',
  'private_key_id',
  'assertion',
  'subject_token',
  'password',
  'api_key',
  'apiKey',
  'accessToken',
  'refreshToken',
  'clientSecret',
  'privateKey',
].join('|');

interface Rule {
  pattern: RegExp;
  replace: string | ((match: string, ...groups: string[]) => string);
}

const RULES: Rule[] = [
  // PEM private keys, also when JSON-escaped (`\n` as two characters) or cut off before the END line.
  {
    pattern: /-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----[\s\S]*?(?:-----END (?:[A-Z]+ )?PRIVATE KEY-----|$)/g,
    replace: `[REDACTED PRIVATE KEY]`,
  },
  // JWTs (ID tokens, service-account assertions, Kubernetes service-account tokens): header.payload.signature.
  { pattern: /\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g, replace: '[REDACTED JWT]' },
  // Authorization headers and any "Bearer <token>" (before ya29, so the header loses its whole token).
  // Eight characters at least, so prose ("Bearer token expired") keeps its words.
  {
    pattern: /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/-]{8,}=*/gi,
    replace: (_, scheme: string) => `${scheme} ${REDACTED}`,
  },
  // Google OAuth access tokens.
  { pattern: /\bya29\.[A-Za-z0-9_.-]+/g, replace: `ya29.${REDACTED}` },
  // Google OAuth refresh tokens.
  { pattern: /\b1\/\/0[A-Za-z0-9_-]{20,}/g, replace: REDACTED },
  // Google API keys.
  { pattern: /\bAIza[0-9A-Za-z_-]{35}\b/g, replace: REDACTED },
  // JSON and Python values: "name": "value", 'name': 'value', \"name\":\"value\" (escaped JSON in a string).
  {
    pattern: new RegExp(
      `((?:\\\\?["'])(?:${SECRET_FIELDS})\\\\?["']\\s*:\\s*\\\\?["'])(?!\\[REDACTED)((?:[^"'\\\\]|\\\\[^"'])*)`,
      'g',
    ),
    replace: (_, head: string) => `${head}${REDACTED}`,
  },
  // Query strings, form bodies and key=value logs.
  {
    pattern: new RegExp(`(\\b(?:${SECRET_FIELDS})=)(?!\\[REDACTED)[^&\\s"',;]+`, 'g'),
    replace: (_, head: string) => `${head}${REDACTED}`,
  },
];

/** A run of base64 / base64url characters long enough to be a key, a token or a certificate. */
const BLOB = /[A-Za-z0-9+/_-]{40,}={0,2}/g;

/**
 * Whether a long run is random-looking: URL paths and identifiers are long too, but words give
 * them few capitals and digits; encoded secrets mix all three classes.
 */
function looksEncoded(run: string): boolean {
  let upper = 0;
  let lower = 0;
  let digit = 0;
  for (let i = 0; i < run.length; i += 1) {
    const c = run.charCodeAt(i);
    if (c >= 65 && c <= 90) upper += 1;
    else if (c >= 97 && c <= 122) lower += 1;
    else if (c >= 48 && c <= 57) digit += 1;
  }
  return upper >= 4 && lower >= 4 && digit >= 2;
}

export function redact(text: string): string {
  let out = text;
  for (const rule of RULES) {
    out = out.replace(rule.pattern, rule.replace as (substring: string, ...args: string[]) => string);
  }
  return out.replace(BLOB, (run) => (looksEncoded(run) ? '[REDACTED BLOB]' : run));
}

/** The longest sample kept: enough for a stack trace's first lines, small enough for a Slack block. */
export const MAX_SAMPLE_CHARS = 600;

/**
 * A sample of `text` for people: redacted first (so a secret cut in half by the window cannot
 * survive), then a window of `max` characters that keeps what `anchor` finds in the redacted text
 * (the signature's wording) in view.
 */
export function sample(text: string, anchor?: RegExp, max = MAX_SAMPLE_CHARS): string {
  const clean = redact(text);
  if (clean.length <= max) return clean;
  const at = anchor?.exec(clean)?.index ?? 0;
  const start = Math.max(0, Math.min(at - Math.floor(max / 4), clean.length - max));
  const window = clean.slice(start, start + max);
  return `${start > 0 ? '…' : ''}${window}${start + max < clean.length ? '…' : ''}`;
}
