import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_SAMPLE_CHARS, redact, sample } from '../../../shared/symptoms/redact.ts';

// Made-up credentials in the shapes Google issues; asserted on with includes() so that a failure
// names the case, never prints the secret.
const ACCESS_TOKEN = 'ya29.a0AfB_byC1x2y3z4-ABCDEFGHIJKLMNOP_qrstuvWXYZ0123456789';
const REFRESH_TOKEN = '1//0gAbCdEfGhIjKlMnOpQrStUvWxYz0123';
const CLIENT_SECRET = 'GOCSPX-abcdefABCDEF123456';
const JWT =
  'eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJjYXJ0QG9yYml0LXByb2QiLCJhdWQiOiJodHRwcyJ9.c2lnbmF0dXJlLXNpZ25hdHVyZS1zaWduYXR1cmU';
const KEY_BODY = 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7bXk2Zq9x';
const API_KEY = 'AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY';
const BLOB = 'dGhpcyBpcyBhIHNlY3JldCBibG9iIHRoYXQgaXMgbG9uZyBlbm91Z2g5OQ==';

function assertGone(text: string, secret: string, what: string): void {
  assert.equal(redact(text).includes(secret), false, `${what}: the secret survived redaction`);
}

describe('redact: secrets go', () => {
  const cases: [string, string, string][] = [
    ['Authorization header', `Authorization: Bearer ${ACCESS_TOKEN}`, ACCESS_TOKEN],
    ['lower-case bearer', `authorization: bearer ${JWT}`, JWT],
    ['bare access token', `got token ${ACCESS_TOKEN} from cache`, ACCESS_TOKEN.slice(5)],
    [
      'refresh token in a form body',
      `grant_type=refresh_token&refresh_token=${REFRESH_TOKEN}&x=1`,
      REFRESH_TOKEN,
    ],
    ['refresh token alone', `stored ${REFRESH_TOKEN}`, REFRESH_TOKEN],
    [
      'client_secret in a query',
      `?client_id=123.apps.googleusercontent.com&client_secret=${CLIENT_SECRET}`,
      CLIENT_SECRET,
    ],
    [
      'access_token in JSON',
      `{"access_token": "${ACCESS_TOKEN}", "expires_in": 3599}`,
      ACCESS_TOKEN.slice(5),
    ],
    ['id_token in JSON without spaces', `{"id_token":"${JWT}"}`, JWT.slice(3)],
    ['client_secret in escaped JSON', `body="{\\"client_secret\\":\\"${CLIENT_SECRET}\\"}"`, CLIENT_SECRET],
    [
      'private_key_id in a Python repr',
      `{'private_key_id': 'a1b2c3d4e5f6', 'type': 'service_account'}`,
      'a1b2c3d4e5f6',
    ],
    ['a JWT assertion', `assertion=${JWT}`, JWT.slice(3)],
    ['a JWT in prose', `kubernetes token ${JWT} rejected`, JWT.slice(3)],
    [
      'a PEM private key',
      `-----BEGIN PRIVATE KEY-----\n${KEY_BODY}\n-----END PRIVATE KEY-----\nafter`,
      KEY_BODY,
    ],
    ['an RSA key cut off', `-----BEGIN RSA PRIVATE KEY-----\n${KEY_BODY}`, KEY_BODY],
    [
      'a JSON-escaped key in a key file',
      `"private_key": "-----BEGIN PRIVATE KEY-----\\n${KEY_BODY}\\n-----END PRIVATE KEY-----\\n"`,
      KEY_BODY,
    ],
    ['an API key', `x-goog-api-key: ${API_KEY}`, API_KEY],
    ['a long base64 blob', `payload ${BLOB} end`, BLOB.slice(0, 40)],
  ];
  for (const [what, text, secret] of cases) {
    it(what, () => {
      assertGone(text, secret, what);
      assert.match(redact(text), /\[REDACTED/);
    });
  }

  it('leaves one marker per secret, not a marker inside a marker', () => {
    assert.equal(redact(`Authorization: Bearer ${ACCESS_TOKEN}`), 'Authorization: Bearer [REDACTED]');
    assert.equal(redact(`assertion=${JWT}`), 'assertion=[REDACTED JWT]');
  });
});

describe('redact: what people need stays', () => {
  const kept = [
    'Get "http://169.254.169.254/computeMetadata/v1/instance/service-accounts/default/token?scopes=https%3A%2F%2Fwww.googleapis.com%2Fauth%2Fpubsub": dial tcp 169.254.169.254:80: connect: connection refused',
    "Unable to generate access token; IAM returned 403 Forbidden: Permission 'iam.serviceAccounts.getAccessToken' denied on resource (or it may not exist).",
    'principal://iam.googleapis.com/projects/731604512345/locations/global/workloadIdentityPools/orbit-prod.svc.id.goog/subject/ns/checkout/sa/cart',
    'image sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 in pod cart-6d8-a',
    'cart@orbit-prod.iam.gserviceaccount.com in /apis/apps/v1/namespaces/checkout/deployments/cart-service-frontend',
    '{"token_type": "Bearer", "expires_in": 3599}',
    'Bearer token expired, refreshing',
  ];
  for (const text of kept) {
    it(text.slice(0, 60), () => assert.equal(redact(text), text));
  }
});

describe('sample', () => {
  it('keeps short text whole, redacted', () => {
    assert.equal(sample(`token ${ACCESS_TOKEN}`), 'token ya29.[REDACTED]');
  });

  it('cuts long text to a window around the anchor, marking the cuts', () => {
    const text = `${'x'.repeat(5_000)} compute: Received 403 \`denied\` ${'y'.repeat(5_000)}`;
    const cut = sample(text, /compute: Received/);
    assert.ok(cut.length <= MAX_SAMPLE_CHARS + 2);
    assert.ok(cut.includes('compute: Received 403'));
    assert.ok(cut.startsWith('…') && cut.endsWith('…'));
  });

  it('redacts before cutting, so a secret across the window edge cannot leave half of itself', () => {
    const text = `${'a '.repeat(290)}Bearer ${ACCESS_TOKEN} ${'b '.repeat(400)}`;
    const cut = sample(text);
    assert.equal(cut.includes(ACCESS_TOKEN.slice(0, 20)), false, 'part of the token survived');
  });
});

describe('redact: cost on hostile input', () => {
  it('stays linear on 256 KB of near-secrets', () => {
    const pieces = [
      '-----BEGIN PRIVATE KEY-----',
      '"access_token": "',
      'eyJab.',
      'Bearer ',
      'A1b2C3d4'.repeat(4),
      'x=&',
    ];
    const text = pieces.join(' ').repeat(Math.ceil((256 * 1024) / pieces.join(' ').length));
    const start = performance.now();
    redact(text);
    assert.ok(performance.now() - start < 1_000, 'redacting 256 KB took more than a second');
  });
});
