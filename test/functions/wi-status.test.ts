import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { validateBlocks } from '../fakes/slack.ts';
import { type FunctionServer, freePort, startFunction } from '../support/function-server.ts';
import { FIXTURES } from '../support/paths.ts';
import { headerOf, postSigned, slashCommandBody } from '../support/slash-command.ts';

const SECRET = 'wi-status-test-signing-secret-9f8e7d6c';
const RESPONSE_URL = 'https://hooks.slack.com/commands/T0FAKETEAM/1795000000001/r3sp0ns3s3cr3t';

describe('wiStatus through the functions-framework server', () => {
  let server: FunctionServer;
  before(async () => {
    server = await startFunction('wiStatus', {
      signatureType: 'http',
      env: {
        SLACK_SIGNING_SECRET: SECRET,
        WI_SNAPSHOT: join(FIXTURES, 'snapshot.json'),
        WI_STATE: 'memory',
        SLACK_ALLOWED_USERS: 'U0ALICE',
        // Nothing listens there: a deferred command cannot be queued, and says so.
        PUBSUB_EMULATOR_HOST: `127.0.0.1:${await freePort()}`,
        GOOGLE_CLOUD_PROJECT: 'demo-wi-status',
      },
    });
  });
  after(() => server.stop());

  const ask = (text: string, options: { userId?: string; responseUrl?: string } = {}) =>
    postSigned(server.url, SECRET, slashCommandBody(text, { responseUrl: RESPONSE_URL, ...options }));

  function assertBlockKit(json: Record<string, unknown> | undefined) {
    assert.ok(json);
    assert.deepEqual(validateBlocks(json.blocks as unknown[]), []);
    assert.equal(typeof json.text, 'string');
  }

  test('answers a correctly signed /wi-status with the summary, ephemeral, in Block Kit', async () => {
    const answer = await ask('');
    assert.equal(answer.status, 200, answer.text);
    assert.equal(answer.json?.response_type, 'ephemeral');
    assertBlockKit(answer.json);
    assert.equal(
      headerOf(answer),
      '⚠️ No open incident, but the last inventory shows broken links in 1 cluster',
    );
    assert.match(
      JSON.stringify(answer.json?.blocks),
      /orbit-prod\/europe-west4\/core-1\*: WI on · 4 WI KSAs/,
    );
  });

  test('answers a cluster in detail, in the channel when asked with public', async () => {
    const answer = await ask('public core-1');
    assert.equal(answer.json?.response_type, 'in_channel');
    assertBlockKit(answer.json);
    assert.equal(headerOf(answer), '❌ core-1 (orbit-prod · europe-west4): 1 KSA with a broken link');
  });

  test('lists incidents, and answers unknown input with help rather than an error', async () => {
    assert.equal(headerOf(await ask('incidents')), '✅ No open incident');
    const help = await ask('what is going on');
    assert.equal(help.status, 200);
    assert.equal(headerOf(help), "ℹ️ I don't know `what`");
    assert.match(JSON.stringify(help.json?.blocks), /\/wi-status NAMESPACE\/KSA \[--cluster CLUSTER\]/);
    assert.equal(headerOf(await ask('nope-cluster')), 'ℹ️ No cluster nope-cluster in the last inventory');
  });

  test('refuses silence at once to a user who may not, without queueing anything', async () => {
    const answer = await ask('silence namespace=checkout 1h deploy', { userId: 'U0MALLORY' });
    assert.equal(headerOf(answer), '⛔ You may not silence');
    assert.match(JSON.stringify(answer.json?.blocks), /not among the users allowed to silence/);
  });

  test('refuses a planned change at once to a user who may not silence', async () => {
    const answer = await ask('plan actor=deployer@* 1h pool migration', { userId: 'U0MALLORY' });
    assert.equal(headerOf(answer), '⛔ You may not declare a planned change');
  });

  test('says so when a deferred command cannot be queued (the Pub/Sub emulator is away)', async () => {
    const answer = await ask('checkout/cart');
    assert.equal(answer.status, 200);
    assert.equal(headerOf(answer), '⚠️ I could not start that');
    assert.ok(answer.ms < 3_000, `answered in ${Math.round(answer.ms)} ms`);
  });

  test('does not defer a command whose response_url is not Slack’s', async () => {
    const answer = await ask('checkout/cart', { responseUrl: 'https://attacker.example/commands/x' });
    assert.equal(headerOf(answer), '⚠️ I cannot answer this command later here');
  });

  test('handles Slack’s SSL check and the url_verification handshake, both signed', async () => {
    const ssl = await postSigned(server.url, SECRET, 'ssl_check=1&token=legacy');
    assert.equal(ssl.status, 200);
    assert.equal(ssl.text, '');
    const challenge = await postSigned(
      server.url,
      SECRET,
      JSON.stringify({ token: 'legacy', challenge: 'c-5e1f', type: 'url_verification' }),
      { contentType: 'application/json' },
    );
    assert.equal(challenge.status, 200);
    assert.deepEqual(challenge.json, { challenge: 'c-5e1f' });
  });

  describe('rejections: the same short answer whatever the reason, logged without secrets', () => {
    const body = slashCommandBody('incidents', { responseUrl: RESPONSE_URL });
    const now = () => Math.floor(Date.now() / 1000);
    const cases: [string, () => Promise<{ status: number; text: string }>, string][] = [
      [
        'a signature made with another secret',
        () => postSigned(server.url, 'not-the-secret', body),
        'bad-signature',
      ],
      [
        'a forged body with a valid timestamp',
        async () => {
          const genuine = await import('../../shared/slack/verify.ts').then((m) =>
            m.signSlackRequest(SECRET, body),
          );
          return postSigned(server.url, SECRET, body.replace('incidents', 'silence'), { headers: genuine });
        },
        'bad-signature',
      ],
      [
        'a replay of a request 6 minutes old',
        () => postSigned(server.url, SECRET, body, { timestampSeconds: now() - 360 }),
        'stale-timestamp',
      ],
      [
        'a timestamp from the future',
        () => postSigned(server.url, SECRET, body, { timestampSeconds: now() + 360 }),
        'stale-timestamp',
      ],
      [
        'no signature header',
        () =>
          fetch(server.url, {
            method: 'POST',
            headers: {
              'content-type': 'application/x-www-form-urlencoded',
              'x-slack-request-timestamp': String(now()),
            },
            body,
          }).then(async (r) => ({ status: r.status, text: await r.text() })),
        'missing-signature',
      ],
      [
        'no timestamp header',
        () => postSigned(server.url, SECRET, body, { headers: { 'x-slack-request-timestamp': '' } }),
        'missing-timestamp',
      ],
      [
        'a malformed signature',
        () => postSigned(server.url, SECRET, body, { headers: { 'x-slack-signature': 'v0=nothex' } }),
        'malformed-signature',
      ],
      [
        'a malformed timestamp',
        () => postSigned(server.url, SECRET, body, { headers: { 'x-slack-request-timestamp': 'yesterday' } }),
        'malformed-timestamp',
      ],
    ];
    for (const [name, send, reason] of cases) {
      test(`refuses ${name}`, async () => {
        const before = server.logs().length;
        const answer = await send();
        assert.equal(answer.status, 401);
        assert.equal(answer.text, 'invalid request');
        const logs = await server.waitForLogs(before + 1);
        const line = logs.slice(before).find((l) => l.message === 'wiStatus: request rejected');
        assert.equal(line?.reason, reason);
      });
    }

    test('refuses a 1 MB body before hashing it, even correctly signed', async () => {
      const big = `${body}&padding=${'a'.repeat(1024 * 1024)}`;
      const answer = await postSigned(server.url, SECRET, big);
      assert.equal(answer.status, 413);
      assert.equal(answer.text, 'request too large');
    });

    test('refuses methods other than POST', async () => {
      const answer = await postSigned(server.url, SECRET, body, { method: 'GET' });
      assert.equal(answer.status, 405);
      assert.equal(answer.headers.get('allow'), 'POST');
    });

    test('never logs the secret, a signature, or the response_url’s path', () => {
      const all = server.lines.join('\n');
      assert.ok(!all.includes(SECRET));
      assert.ok(!all.includes('r3sp0ns3s3cr3t'));
      assert.ok(!/v0=[0-9a-f]{64}/.test(all));
    });
  });
});

describe('wiStatus without SLACK_SIGNING_SECRET', () => {
  test('refuses every request and says why in its log, once', async () => {
    const server = await startFunction('wiStatus', { signatureType: 'http', env: { WI_STATE: 'memory' } });
    try {
      for (let i = 0; i < 2; i++) {
        const answer = await postSigned(server.url, SECRET, slashCommandBody(''));
        assert.equal(answer.status, 503);
      }
      const logs = await server.waitForLogs(1);
      assert.equal(logs.filter((l) => /SLACK_SIGNING_SECRET is not set/.test(String(l.message))).length, 1);
    } finally {
      await server.stop();
    }
  });
});
