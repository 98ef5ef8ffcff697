import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { MAX_BODY_BYTES, signSlackRequest, verifySlackRequest } from '../../../shared/slack/verify.ts';

const SECRET = 'test-signing-secret-0123456789abcdef';
const NOW = Date.parse('2026-11-29T10:00:00Z');
const TS = Math.floor(NOW / 1000);
const BODY = 'token=x&team_id=T0FAKETEAM&user_id=U0ALICE&command=%2Fwi-status&text=incidents';

/** A request signed for `signed` (the body itself unless given), carrying `body`. */
function request(
  overrides: Partial<{
    timestamp: string | undefined;
    signature: string | undefined;
    body: string;
    signed: string;
  }> = {},
) {
  const body = overrides.body ?? BODY;
  const headers = signSlackRequest(SECRET, overrides.signed ?? body, TS);
  return {
    timestamp: 'timestamp' in overrides ? overrides.timestamp : headers['x-slack-request-timestamp'],
    signature: 'signature' in overrides ? overrides.signature : headers['x-slack-signature'],
    rawBody: Buffer.from(body),
  };
}

describe('verifySlackRequest', () => {
  it('accepts what Slack signs: v0=hex(HMAC-SHA256(secret, "v0:" + timestamp + ":" + body))', () => {
    // The signature computed independently, as Slack documents it.
    const expected = `v0=${createHmac('sha256', SECRET).update(`v0:${TS}:${BODY}`).digest('hex')}`;
    assert.equal(signSlackRequest(SECRET, BODY, TS)['x-slack-signature'], expected);
    assert.deepEqual(verifySlackRequest(SECRET, request(), NOW), { ok: true });
  });

  it('accepts a timestamp up to five minutes off either way, and no more', () => {
    const at = (offsetSeconds: number) => NOW + offsetSeconds * 1000;
    assert.deepEqual(verifySlackRequest(SECRET, request(), at(300)), { ok: true });
    assert.deepEqual(verifySlackRequest(SECRET, request(), at(-300)), { ok: true });
    assert.deepEqual(verifySlackRequest(SECRET, request(), at(301)), {
      ok: false,
      reason: 'stale-timestamp',
    });
    assert.deepEqual(verifySlackRequest(SECRET, request(), at(-301)), {
      ok: false,
      reason: 'stale-timestamp',
    });
  });

  const cases: [string, Parameters<typeof request>[0], string][] = [
    [
      'a forged body with a valid timestamp and signature',
      { signed: BODY, body: BODY.replace('incidents', 'silence') },
      'bad-signature',
    ],
    [
      'a signature made with another secret',
      { signature: signSlackRequest('other', BODY, TS)['x-slack-signature'] },
      'bad-signature',
    ],
    ['no timestamp header', { timestamp: undefined }, 'missing-timestamp'],
    ['an empty timestamp', { timestamp: '' }, 'missing-timestamp'],
    ['a timestamp that is not digits', { timestamp: '1.7e9' }, 'malformed-timestamp'],
    ['a negative timestamp', { timestamp: '-1' }, 'malformed-timestamp'],
    ['no signature header', { signature: undefined }, 'missing-signature'],
    ['a signature of another version', { signature: `v1=${'a'.repeat(64)}` }, 'malformed-signature'],
    ['a short signature', { signature: `v0=${'a'.repeat(63)}` }, 'malformed-signature'],
    ['a signature that is not hex', { signature: `v0=${'z'.repeat(64)}` }, 'malformed-signature'],
    [
      'two signatures joined',
      { signature: `v0=${'a'.repeat(64)}, v0=${'b'.repeat(64)}` },
      'malformed-signature',
    ],
  ];
  for (const [name, overrides, reason] of cases) {
    it(`rejects ${name} (${reason})`, () => {
      assert.deepEqual(verifySlackRequest(SECRET, request(overrides), NOW), { ok: false, reason });
    });
  }

  it('refuses a body over the limit before hashing it, even when correctly signed', () => {
    const big = `text=${'a'.repeat(MAX_BODY_BYTES)}`;
    assert.deepEqual(verifySlackRequest(SECRET, request({ body: big }), NOW), {
      ok: false,
      reason: 'body-too-large',
    });
  });

  it('never puts the secret or the signature into its answer', () => {
    const forged = request({ body: 'forged' });
    const text = JSON.stringify(verifySlackRequest(SECRET, forged, NOW));
    assert.ok(!text.includes(SECRET));
    assert.ok(!text.includes(String(forged.signature).slice(3)));
  });
});
