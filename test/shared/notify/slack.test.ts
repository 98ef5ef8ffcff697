import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { inspect } from 'node:util';
import type { TransitionType } from '../../../shared/domain/incident.ts';
import { createLogger } from '../../../shared/log.ts';
import { NotifyError } from '../../../shared/notify/errors.ts';
import {
  classifySlackError,
  createSlackSender,
  type SlackSenderOptions,
} from '../../../shared/notify/slack.ts';
import { toSlackMessage, toSlackThreadReply } from '../../../shared/notify/slack-render.ts';
import type { Delivery } from '../../../shared/notify/types.ts';
import { type FakeSlack, type FakeSlackStep, startFakeSlack } from '../../fakes/slack.ts';
import { REPO_ROOT } from '../../support/paths.ts';
import { openIncident, resolvedIncident, SLACK_TOKEN, updatedIncident } from './slack-incident.ts';

let slack: FakeSlack;
/** Everything the sender logged. */
let lines: string[];

beforeEach(async () => {
  slack = await startFakeSlack({ token: SLACK_TOKEN });
  lines = [];
});
afterEach(() => slack.stop());

/** A sender on the fake with small bounds: 1 s a request, 3 s a send, backoff from 20 ms. */
function sender(options: Partial<SlackSenderOptions> = {}) {
  return createSlackSender({
    token: SLACK_TOKEN,
    apiUrl: slack.url,
    timeoutMs: 1_000,
    backoffMs: 20,
    logger: createLogger((line) => lines.push(line)),
    ...options,
  });
}

function delivery(transition: TransitionType, standing?: { channel: string; ts: string }): Delivery {
  const incident =
    transition === 'resolved'
      ? resolvedIncident(updatedIncident())
      : transition === 'updated'
        ? updatedIncident()
        : openIncident();
  return { incident, transition, ...(standing ? { slack: standing } : {}) };
}

/** Asserts `promise` rejects with a Slack NotifyError and returns it for further checks. */
async function notifyError(promise: Promise<unknown>): Promise<NotifyError> {
  let caught: unknown;
  await assert.rejects(promise, (error) => {
    caught = error;
    return error instanceof NotifyError && error.integration === 'slack';
  });
  return caught as NotifyError;
}

describe('createSlackSender through the real WebClient', () => {
  test('posts a new message and returns the channel ID and ts Slack answered', async () => {
    const at = await sender().send('#wi-alerts', delivery('opened'));
    assert.deepEqual(at, { channel: 'C0FAKE0001', ts: '1795000001.000001' });
    assert.equal(slack.calls.length, 1);
    const [call] = slack.calls;
    assert.equal(call?.method, 'chat.postMessage');
    assert.equal(call?.headers.authorization, `Bearer ${SLACK_TOKEN}`);
    const expected = toSlackMessage(delivery('opened').incident);
    assert.equal(call?.body.channel, '#wi-alerts');
    assert.equal(call?.body.text, expected.text);
    assert.deepEqual(call?.body.blocks, expected.blocks);
    assert.equal(call?.body.unfurl_links, 'false');
    // Every top-level post names its incident, so a post whose answer is lost can be found again.
    const metadata = { event_type: 'wi_sentinel_incident', event_payload: { incident_id: 'inc-0042' } };
    assert.deepEqual(call?.body.metadata, metadata);
    assert.deepEqual(
      slack.messages.map(({ postedAt: _, ...message }) => message),
      [
        {
          channel: 'C0FAKE0001',
          ts: '1795000001.000001',
          text: expected.text,
          blocks: expected.blocks,
          metadata,
          edits: 0,
        },
      ],
    );
  });

  test('an update edits the same message in place and replies in its thread', async () => {
    const send = sender();
    const at = await send.send('#wi-alerts', delivery('opened'));
    assert.deepEqual(await send.send('#wi-alerts', delivery('updated', at)), at);
    assert.deepEqual(
      slack.calls.map((c) => [c.method, c.body.channel, c.body.ts ?? c.body.thread_ts ?? null]),
      [
        ['chat.postMessage', '#wi-alerts', null],
        ['chat.update', at.channel, at.ts],
        ['chat.postMessage', at.channel, at.ts],
      ],
    );
    const updated = delivery('updated').incident;
    const [parent, reply] = slack.messages;
    assert.equal(slack.messages.length, 2);
    assert.deepEqual(parent?.blocks, toSlackMessage(updated).blocks);
    assert.equal(parent?.edits, 1);
    assert.equal(reply?.thread_ts, at.ts);
    assert.equal(reply?.text, toSlackThreadReply(updated, 'updated').text);
    assert.equal(reply?.blocks, undefined);
  });

  test('resolution turns the message green and says so in the thread; a re-send of opened only edits', async () => {
    const send = sender();
    const at = await send.send('#wi-alerts', delivery('opened'));
    assert.deepEqual(await send.send('#wi-alerts', delivery('resolved', at)), at);
    const [parent, reply] = slack.messages;
    const header = (parent?.blocks?.[0] as { text: { text: string } } | undefined)?.text.text;
    assert.match(header ?? '', /^🟢 Resolved: /);
    assert.match(reply?.text ?? '', /^🟢 \*Resolved:\* general runs the GKE metadata server again/);

    await send.send('#wi-alerts', delivery('opened', at));
    assert.deepEqual(
      slack.calls.slice(3).map((c) => c.method),
      ['chat.update'],
    );
    assert.equal(slack.messages.length, 2);
  });

  test('429 with Retry-After: 1 waits a second, then delivers one message', async () => {
    slack.script({ status: 429, retryAfter: 1 });
    const started = Date.now();
    const at = await sender({ timeoutMs: 1_500 }).send('#wi-alerts', delivery('opened'));
    const waited = Date.now() - started;
    assert.ok(waited >= 1_000, `waited ${waited} ms`);
    assert.ok(waited < 2_500, `waited ${waited} ms`);
    assert.deepEqual(
      slack.calls.map((c) => c.answered),
      [429, 200],
    );
    assert.equal(slack.messages.length, 1);
    assert.equal(at.ts, slack.messages[0]?.ts);
  });

  test('a send never outlives its deadline: no call starts that could not end in time', async () => {
    const send = sender({ timeoutMs: 300, deadlineMs: 500 });
    const first = await send.send('#wi-alerts', delivery('opened'));
    // The edit hangs for its 300 ms; a retry (a backoff, then up to 300 ms) would overrun 500 ms.
    slack.script('hang');
    const started = Date.now();
    const error = await notifyError(send.send('#wi-alerts', delivery('updated', first)));
    assert.ok(Date.now() - started < 500);
    assert.equal(error.retryable, true);
    assert.equal(error.message, 'slack: chat.update failed: timed out');
    // A slow edit lands after 250 ms; the thread reply could then end after 550 ms: not attempted.
    slack.calls.length = 0;
    slack.script({ delayMs: 250 });
    const again = await notifyError(send.send('#wi-alerts', delivery('updated', first)));
    assert.equal(again.retryable, true);
    assert.equal(again.message, "slack: chat.postMessage not attempted: the send's 500 ms are spent");
    assert.deepEqual(
      slack.calls.map((c) => [c.method, c.answered]),
      [['chat.update', 200]],
    );
  });

  test('a Retry-After longer than the send may take fails at once, retryable', async () => {
    slack.script({ status: 429, retryAfter: 30 });
    const started = Date.now();
    const error = await notifyError(sender().send('#wi-alerts', delivery('opened')));
    assert.ok(Date.now() - started < 500);
    assert.equal(error.retryable, true);
    assert.equal(error.status, 429);
    assert.match(error.message, /Retry-After 30 s/);
    assert.equal(slack.calls.length, 1);
  });

  test('500, 500, then ok: delivered within the retries', async () => {
    slack.script({ status: 500 }, { status: 500 });
    const at = await sender().send('#wi-alerts', delivery('opened'));
    assert.deepEqual(
      slack.calls.map((c) => c.answered),
      [500, 500, 200],
    );
    assert.equal(slack.messages.length, 1);
    assert.equal(at.ts, slack.messages[0]?.ts);
    assert.equal(
      lines.filter((l) => JSON.parse(l).message.startsWith('slack: chat.postMessage failed (HTTP 500)'))
        .length,
      2,
    );
  });

  test('a persistent 500 is a retryable NotifyError after retries + 1 requests', async () => {
    slack.script({ status: 500 }, { status: 503 }, { status: 500 }, { status: 500 });
    const error = await notifyError(sender().send('#wi-alerts', delivery('opened')));
    assert.equal(error.retryable, true);
    assert.equal(error.status, 500);
    assert.equal(error.message, 'slack: chat.postMessage failed after 3 attempts: HTTP 500');
    assert.equal(slack.calls.length, 3);
    assert.equal(slack.messages.length, 0);
  });

  test('ok:false channel_not_found is permanent: one request, no retry', async () => {
    slack.script({ error: 'channel_not_found' });
    const error = await notifyError(sender().send('#nowhere', delivery('opened')));
    assert.equal(error.retryable, false);
    assert.equal(error.status, undefined);
    assert.equal(error.message, 'slack: chat.postMessage failed: channel_not_found');
    assert.equal(slack.calls.length, 1);
  });

  test('a hanging server: a retryable timeout within the deadline (3 × timeoutMs)', async () => {
    slack.script('hang', 'hang', 'hang');
    const started = Date.now();
    const error = await notifyError(sender({ timeoutMs: 150 }).send('#wi-alerts', delivery('opened')));
    const took = Date.now() - started;
    assert.equal(error.retryable, true);
    // The post may have been made: before posting again the channel is looked up (150 ms, no answer
    // either), and a third request could not end within 450 ms.
    assert.equal(
      error.message,
      'slack: chat.postMessage timed out, and the post it may have made could not be looked for: conversations.list failed: timed out',
    );
    assert.equal(error.unconfirmed, true);
    assert.ok(took >= 300 && took <= 3 * 150 + 100, `took ${took} ms`);
    assert.deepEqual(
      slack.calls.map((c) => c.method),
      ['chat.postMessage', 'conversations.list'],
    );
  });

  test('a server that is not there: retryable network error', async () => {
    const port = await closedPort();
    const error = await notifyError(
      sender({ apiUrl: `http://127.0.0.1:${port}/api/`, retries: 1, timeoutMs: 300 }).send(
        '#wi-alerts',
        delivery('opened'),
      ),
    );
    assert.equal(error.retryable, true);
    assert.match(error.message, /failed after 2 attempts: network:ECONNREFUSED$/);
  });

  for (const gone of ['message_not_found', 'cant_update_message'] as const) {
    test(`${gone} on update: posts a new message instead and returns its ts`, async () => {
      const send = sender();
      const first = await send.send('#wi-alerts', delivery('opened'));
      // The fake answers message_not_found by itself for a ts it never gave; cant_update_message is scripted.
      const standing = gone === 'message_not_found' ? { ...first, ts: '1700000000.000001' } : first;
      if (gone === 'cant_update_message') slack.script({ error: gone });
      const at = await send.send('#wi-alerts', delivery('updated', standing));
      assert.deepEqual(at, { channel: 'C0FAKE0001', ts: '1795000002.000002' });
      assert.deepEqual(
        slack.calls.slice(1).map((c) => [c.method, c.error ?? 'ok', c.body.thread_ts ?? null]),
        [
          ['chat.update', gone, null],
          ['chat.postMessage', 'ok', null],
        ],
      );
      // The new message is the whole incident as it stands; no thread reply to a message nobody sees.
      assert.deepEqual(slack.messages[1]?.blocks, toSlackMessage(delivery('updated').incident).blocks);
      assert.equal(slack.messages.length, 2);
      assert.ok(lines.some((l) => JSON.parse(l).message.includes(`cannot be edited (${gone})`)));
    });
  }

  test('another update failure is not papered over with a new post', async () => {
    const send = sender();
    const first = await send.send('#wi-alerts', delivery('opened'));
    slack.script({ error: 'channel_not_found' });
    const error = await notifyError(send.send('#wi-alerts', delivery('updated', first)));
    assert.equal(error.retryable, false);
    assert.equal(error.message, 'slack: chat.update failed: channel_not_found');
    assert.equal(slack.calls.length, 2);
  });

  test('a failed thread reply fails the send, classified as usual (retries: 0 still leaves time for it)', async () => {
    const send = sender({ retries: 0 });
    const first = await send.send('#wi-alerts', delivery('opened'));
    slack.script('ok', { status: 503 });
    const error = await notifyError(send.send('#wi-alerts', delivery('resolved', first)));
    assert.equal(error.retryable, true);
    assert.equal(error.message, 'slack: chat.postMessage failed: HTTP 503');
    assert.deepEqual(
      slack.calls.map((c) => c.method),
      ['chat.postMessage', 'chat.update', 'chat.postMessage'],
    );
  });

  test('the token never shows in errors, logs, stdout or stderr', async () => {
    const captured: string[] = [];
    const write = { out: process.stdout.write, err: process.stderr.write };
    const capture = (chunk: unknown) => {
      captured.push(String(chunk));
      return true;
    };
    process.stdout.write = capture as typeof process.stdout.write;
    process.stderr.write = capture as typeof process.stderr.write;
    const errors: unknown[] = [];
    try {
      const send = sender({ timeoutMs: 150, retries: 1 });
      slack.script({ status: 500 }, { status: 502, body: { ok: false, error: 'bad gateway' } });
      errors.push(await send.send('#a', delivery('opened')).catch((e: unknown) => e));
      slack.script({ error: 'invalid_auth' });
      errors.push(await send.send('#a', delivery('opened')).catch((e: unknown) => e));
      slack.script({ status: 429, retryAfter: 60 });
      errors.push(await send.send('#a', delivery('opened')).catch((e: unknown) => e));
      slack.script('hang', 'hang');
      errors.push(await send.send('#a', delivery('opened')).catch((e: unknown) => e));
      slack.script({ status: 400 });
      errors.push(await send.send('#a', delivery('opened')).catch((e: unknown) => e));
      // A wrong token: the fake answers invalid_auth, the message names neither token.
      const wrong = createSlackSender({ token: `${SLACK_TOKEN}-wrong`, apiUrl: slack.url, timeoutMs: 150 });
      errors.push(await wrong.send('#a', delivery('opened')).catch((e: unknown) => e));
      const port = await closedPort();
      errors.push(
        await sender({ apiUrl: `http://127.0.0.1:${port}/api/`, retries: 0 })
          .send('#a', delivery('opened'))
          .catch((e: unknown) => e),
      );
    } finally {
      process.stdout.write = write.out;
      process.stderr.write = write.err;
    }
    assert.equal(errors.length, 7);
    for (const error of errors) {
      assert.ok(error instanceof NotifyError, String(error));
      assert.ok(!error.message.includes('slacksecret'), error.message);
      // The whole error, its cause chain included, as a logger would print it.
      assert.ok(!inspect(error, { depth: 20 }).includes('slacksecret'));
    }
    assert.ok(lines.length > 0, 'the sender logged its retries');
    for (const text of [...lines, ...captured]) assert.ok(!text.includes('slacksecret'), text);
    // The fake did receive it, so the check above is not vacuous.
    assert.ok(slack.calls.every((c) => c.headers.authorization?.includes('slacksecret')));
  });

  test('@slack/web-api is loaded on the first send, not when the sender is made', () => {
    const script = `
      import { createRequire } from 'node:module';
      import { createSlackSender } from './shared/notify/slack.ts';
      const loaded = () => Object.keys(createRequire(import.meta.url).cache).some((k) => k.includes('@slack/web-api'));
      const sender = createSlackSender({ token: 'xoxb-1', apiUrl: 'http://127.0.0.1:9/api/' });
      const before = loaded();
      await sender.send('#a', { incident: JSON.parse(process.argv[1]), transition: 'opened' }).catch(() => {});
      console.log(JSON.stringify({ before, after: loaded() }));`;
    const run = spawnSync(
      process.execPath,
      ['--input-type=module', '-e', script, JSON.stringify(openIncident())],
      {
        cwd: REPO_ROOT,
        encoding: 'utf8',
        timeout: 20_000,
      },
    );
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout), { before: false, after: true });
  });
});

describe('a post whose answer is lost is found again, never posted twice', () => {
  const topLevel = () => slack.messages.filter((m) => m.thread_ts === undefined);

  for (const step of ['accept-then-drop', 'accept-then-hang'] as const) {
    test(`${step}: the retry finds the post in the channel's history and adopts it`, async () => {
      // The channel is known to Slack (an earlier post), as an alert channel is.
      await sender().send('#wi-alerts', delivery('opened'));
      slack.messages.length = 0;
      slack.script(step);
      const at = await sender({ timeoutMs: 300 }).send('#wi-alerts', delivery('opened'));
      assert.equal(topLevel().length, 1);
      assert.deepEqual(at, { channel: topLevel()[0]?.channel, ts: topLevel()[0]?.ts });
      assert.deepEqual(
        slack.calls.slice(1).map((c) => c.method),
        ['chat.postMessage', 'conversations.list', 'conversations.history'],
      );
      const history = slack.calls.at(-1);
      assert.equal(history?.body.channel, 'C0FAKE0001');
      assert.equal(history?.body.include_all_metadata, 'true');
      assert.ok(lines.some((l) => /adopted, not posted again/.test(l)));
      // Every later edit goes to it.
      await sender().send('#wi-alerts', { ...delivery('updated'), slack: at });
      assert.equal(topLevel()[0]?.edits, 1);
      assert.equal(slack.messages.filter((m) => m.thread_ts === at.ts).length, 1);
    });
  }

  test('a send that could not look: unconfirmed and retryable; the next delivery finds and edits the post', async () => {
    slack.script('accept-then-drop', { status: 500 }, { status: 500 }, { status: 500 });
    const error = await notifyError(sender({ retries: 2 }).send('C0ALERTS1', delivery('opened')));
    assert.equal(error.retryable, true);
    assert.equal(error.unconfirmed, true);
    assert.equal(topLevel().length, 1);
    const since = new Date(Date.now() - 1_000).toISOString();
    const at = await sender().send('C0ALERTS1', { ...delivery('opened'), unconfirmedPostSince: since });
    assert.deepEqual(at, { channel: 'C0ALERTS1', ts: topLevel()[0]?.ts });
    assert.equal(topLevel().length, 1);
    assert.equal(topLevel()[0]?.edits, 1, 'brought up to date in place');
  });

  test('without the history scopes: posted again as before, and the log says why', async () => {
    await slack.stop();
    slack = await startFakeSlack({ token: SLACK_TOKEN, scopes: ['chat:write', 'channels:read'] });
    slack.script('accept-then-drop');
    await sender().send('C0ALERTS1', delivery('opened'));
    assert.equal(topLevel().length, 2);
    const warning = lines.find((l) => /cannot look for the incident's post/.test(l));
    assert.match(String(warning), /missing_scope/);
    assert.match(String(warning), /channels:history/);
  });

  test('a post refused outright (connection refused) is retried without looking', async () => {
    slack.script({ status: 503 });
    await sender().send('C0ALERTS1', delivery('opened'));
    assert.deepEqual(
      slack.calls.map((c) => c.method),
      ['chat.postMessage', 'chat.postMessage'],
    );
  });
});

describe('retry decision', () => {
  // Through the real WebClient and the fake, one request each (retries: 0).
  const cases: [string, FakeSlackStep, { retryable: boolean; status?: number }][] = [
    ['HTTP 400', { status: 400 }, { retryable: false, status: 400 }],
    ['HTTP 401', { status: 401 }, { retryable: false, status: 401 }],
    ['HTTP 403', { status: 403 }, { retryable: false, status: 403 }],
    ['HTTP 404', { status: 404 }, { retryable: false, status: 404 }],
    ['HTTP 408', { status: 408 }, { retryable: true, status: 408 }],
    ['HTTP 410', { status: 410 }, { retryable: false, status: 410 }],
    ['HTTP 413', { status: 413 }, { retryable: false, status: 413 }],
    ['HTTP 429', { status: 429, retryAfter: 1 }, { retryable: true, status: 429 }],
    ['HTTP 429 without Retry-After', { status: 429 }, { retryable: true, status: 429 }],
    [
      'HTTP 429 with a date as Retry-After',
      { status: 429, retryAfter: 'Wed, 21 Oct 2026 07:28:00 GMT' },
      { retryable: true, status: 429 },
    ],
    [
      'HTTP 200 that is not JSON',
      { status: 200, body: '<html>down for maintenance</html>' },
      { retryable: true },
    ],
    ['HTTP 500', { status: 500 }, { retryable: true, status: 500 }],
    ['HTTP 502', { status: 502 }, { retryable: true, status: 502 }],
    ['HTTP 503', { status: 503 }, { retryable: true, status: 503 }],
    ['HTTP 504', { status: 504 }, { retryable: true, status: 504 }],
    ['ratelimited', { error: 'ratelimited' }, { retryable: true }],
    ['service_unavailable', { error: 'service_unavailable' }, { retryable: true }],
    ['internal_error', { error: 'internal_error' }, { retryable: true }],
    ['fatal_error', { error: 'fatal_error' }, { retryable: true }],
    ['request_timeout', { error: 'request_timeout' }, { retryable: true }],
    ['channel_not_found', { error: 'channel_not_found' }, { retryable: false }],
    ['not_in_channel', { error: 'not_in_channel' }, { retryable: false }],
    ['is_archived', { error: 'is_archived' }, { retryable: false }],
    ['invalid_auth', { error: 'invalid_auth' }, { retryable: false }],
    ['not_authed', { error: 'not_authed' }, { retryable: false }],
    ['token_revoked', { error: 'token_revoked' }, { retryable: false }],
    ['account_inactive', { error: 'account_inactive' }, { retryable: false }],
    ['missing_scope', { error: 'missing_scope' }, { retryable: false }],
    ['invalid_blocks', { error: 'invalid_blocks' }, { retryable: false }],
    ['msg_too_long', { error: 'msg_too_long' }, { retryable: false }],
    ['msg_blocks_too_long', { error: 'msg_blocks_too_long' }, { retryable: false }],
    ['no_text', { error: 'no_text' }, { retryable: false }],
  ];
  for (const [name, step, expected] of cases) {
    test(`${name} → ${expected.retryable ? 'retryable' : 'permanent'}`, async () => {
      slack.script(step);
      const error = await notifyError(sender({ retries: 0 }).send('#wi-alerts', delivery('opened')));
      assert.equal(error.retryable, expected.retryable);
      assert.equal(error.status, expected.status);
      assert.equal(slack.calls.length, 1);
    });
  }

  test('a timeout and a refused connection are retryable; anything unknown is not', () => {
    const timeout = new DOMException('The operation was aborted due to timeout', 'TimeoutError');
    assert.deepEqual(classifySlackError({ code: 'slack_webapi_request_error', original: timeout }), {
      retryable: true,
      code: 'timeout',
    });
    const refused = Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } });
    assert.deepEqual(classifySlackError({ code: 'slack_webapi_request_error', original: refused }), {
      retryable: true,
      code: 'network:ECONNREFUSED',
    });
    assert.deepEqual(classifySlackError({ code: 'slack_webapi_rate_limited_error', retryAfter: 7 }), {
      retryable: true,
      status: 429,
      code: 'ratelimited',
      retryAfterMs: 7_000,
    });
    assert.deepEqual(classifySlackError(new TypeError('x is not a function')), {
      retryable: false,
      code: 'unknown',
    });
    assert.deepEqual(classifySlackError('a string'), { retryable: false, code: 'unknown' });
  });
});

/** A port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
