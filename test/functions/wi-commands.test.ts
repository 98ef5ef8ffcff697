import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type DeferredCommand, type DeferredTask, encodeCommand } from '../../shared/slack/deferred.ts';
import { type FakeResponseUrl, startFakeResponseUrl } from '../fakes/response-url.ts';
import { type FakeSlack, startFakeSlack, validateBlocks } from '../fakes/slack.ts';
import { type FunctionServer, startFunction, waitUntil } from '../support/function-server.ts';
import { FIXTURES } from '../support/paths.ts';
import { headerOf } from '../support/slash-command.ts';

const SECRET = 'wi-commands-test-signing-secret-1a2b3c';
const TOKEN = 'xoxb-wi-commands-0000-testtokentesttoken';

/** A deferred command as wiStatus publishes it, delivered as Eventarc delivers a Pub/Sub message. */
function delivery(command: DeferredCommand, { secret = SECRET, id = randomUUID() } = {}) {
  const { data, attributes } = encodeCommand(command, secret);
  return {
    specversion: '1.0',
    id,
    type: 'google.cloud.pubsub.topic.v1.messagePublished',
    source: '//pubsub.googleapis.com/projects/demo-wi-status/topics/wi-sentinel-commands',
    time: new Date().toISOString(),
    datacontenttype: 'application/json',
    data: {
      message: {
        data: data.toString('base64'),
        attributes,
        messageId: id,
        publishTime: new Date().toISOString(),
      },
      subscription: 'projects/demo-wi-status/subscriptions/eventarc-wi-commands',
    },
  };
}

async function deliver(server: FunctionServer, body: unknown): Promise<number> {
  const response = await fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/cloudevents+json' },
    body: JSON.stringify(body),
  });
  await response.arrayBuffer();
  return response.status;
}

describe('wiCommands through the functions-framework server', () => {
  let server: FunctionServer;
  let hooks: FakeResponseUrl;
  let slack: FakeSlack;
  before(async () => {
    hooks = await startFakeResponseUrl();
    slack = await startFakeSlack({ token: TOKEN, usergroups: { S0ONCALL: ['U0BOB'] } });
    server = await startFunction('wiCommands', {
      env: {
        SLACK_SIGNING_SECRET: SECRET,
        SLACK_BOT_TOKEN: TOKEN,
        SLACK_API_URL: slack.url,
        SLACK_ALLOWED_USERS: 'U0ALICE',
        SLACK_ALLOWED_USERGROUP: 'S0ONCALL',
        SLACK_RESPONSE_URL_ORIGINS: hooks.origin,
        WI_SNAPSHOT: join(FIXTURES, 'snapshot.json'),
        WI_STATE: 'memory',
      },
    });
  });
  after(async () => {
    await server.stop();
    await hooks.stop();
    await slack.stop();
  });

  function command(
    task: DeferredTask,
    overrides: { userId?: string; responseUrl?: string; requestedAt?: string } = {},
  ) {
    const value: DeferredCommand = {
      v: 1,
      id: randomUUID(),
      requestedAt: overrides.requestedAt ?? new Date().toISOString(),
      task,
      slack: {
        teamId: 'T0FAKETEAM',
        userId: overrides.userId ?? 'U0ALICE',
        userName: 'alice',
        channelId: 'C0ONCALL1',
        responseUrl: overrides.responseUrl ?? hooks.newUrl(),
        responseType: 'in_channel',
      },
    };
    return value;
  }

  test('runs a KSA check and answers at response_url, as a new message in the asked visibility', async () => {
    const cmd = command({ kind: 'ksa', namespace: 'search', name: 'indexer', cluster: 'core-1' });
    assert.equal(await deliver(server, delivery(cmd)), 204);
    const [post] = await hooks.waitFor(1, cmd.slack.responseUrl);
    assert.equal(post?.body?.response_type, 'in_channel');
    assert.equal(post?.body?.replace_original, false);
    assert.deepEqual(validateBlocks(post?.body?.blocks as unknown[]), []);
    assert.match(
      headerOf(post?.body),
      /^❌ broken: link 7 \(key-file-override\) of search\/indexer in core-1/,
    );
    assert.match(JSON.stringify(post?.body?.blocks), /Checked the simulated organization \(WI_SNAPSHOT\)/);
  });

  test('answers a redelivered command once', async () => {
    const cmd = command({ kind: 'ksa', namespace: 'checkout', name: 'cart', cluster: 'edge-1' });
    const event = delivery(cmd);
    assert.equal(await deliver(server, event), 204);
    assert.equal(await deliver(server, { ...event, id: randomUUID() }), 204);
    await hooks.waitFor(1, cmd.slack.responseUrl);
    await waitUntil(
      () =>
        server
          .logs()
          .some((l) => l.message === 'wiCommands: duplicate delivery acknowledged' && l.command === cmd.id),
      5_000,
    );
    assert.equal(hooks.accepted(cmd.slack.responseUrl).length, 1);
  });

  test('silences for an allowed user, refuses others, and asks Slack about the user group', async () => {
    const silence = command({
      kind: 'silence',
      target: { matchers: { namespace: 'checkout' } },
      durationMs: 3_600_000,
      reason: 'migrating cart',
    });
    await deliver(server, delivery(silence));
    const [done] = await hooks.waitFor(1, silence.slack.responseUrl);
    assert.match(headerOf(done?.body), /^🔕 Silenced for 1 h, until /);

    const groupMember = command({ kind: 'unsilence', id: 's-nosuch00000' }, { userId: 'U0BOB' });
    await deliver(server, delivery(groupMember));
    const [member] = await hooks.waitFor(1, groupMember.slack.responseUrl);
    assert.equal(headerOf(member?.body), 'ℹ️ No silence s-nosuch00000');
    const lookup = slack.calls.find((c) => c.method === 'usergroups.users.list');
    assert.equal(lookup?.body.usergroup, 'S0ONCALL');

    const stranger = command(
      { kind: 'silence', target: { fingerprint: 'binding-missing/x' }, durationMs: 60_000, reason: 'x' },
      { userId: 'U0MALLORY' },
    );
    await deliver(server, delivery(stranger));
    const [refused] = await hooks.waitFor(1, stranger.slack.responseUrl);
    assert.equal(headerOf(refused?.body), '⛔ You may not silence or unsilence');
  });

  describe('a message it must not act on is logged and acknowledged, and nothing is posted', () => {
    const cases: [string, () => unknown, RegExp][] = [
      [
        'one signed with another secret',
        () => delivery(command({ kind: 'unsilence', id: 's-0000000000' }), { secret: 'forged' }),
        /command refused \(bad-mac\)/,
      ],
      [
        'one older than 30 minutes',
        () =>
          delivery(
            command(
              { kind: 'unsilence', id: 's-0000000000' },
              { requestedAt: new Date(Date.now() - 31 * 60_000).toISOString() },
            ),
          ),
        /command refused \(expired\)/,
      ],
      [
        'one whose response_url is not Slack’s (signed correctly: defence in depth)',
        () =>
          delivery(
            command(
              { kind: 'unsilence', id: 's-0000000000' },
              { responseUrl: 'https://attacker.example/commands/x' },
            ),
          ),
        /response_url is not Slack’s; dropped/,
      ],
      [
        'one that is not a Pub/Sub message',
        () => ({ ...delivery(command({ kind: 'unsilence', id: 's-0' })), data: { nothing: true } }),
        /not a Pub\/Sub message/,
      ],
    ];
    for (const [name, make, logged] of cases) {
      test(name, async () => {
        const before = { logs: server.logs().length, posts: hooks.posts.length };
        assert.equal(await deliver(server, make()), 204);
        const logs = await server.waitForLogs(before.logs + 1);
        assert.ok(
          logs.slice(before.logs).some((l) => logged.test(String(l.message))),
          JSON.stringify(logs.slice(before.logs)),
        );
        assert.equal(hooks.posts.length, before.posts);
      });
    }
  });

  test('fails the delivery when response_url answers 5xx, so Pub/Sub redelivers; the redelivery answers', async () => {
    const cmd = command({ kind: 'unsilence', id: 's-0000000001' });
    const event = delivery(cmd);
    hooks.script({ status: 503 }, { status: 503 }, { status: 503 });
    assert.notEqual(await deliver(server, event), 204);
    assert.equal(hooks.accepted(cmd.slack.responseUrl).length, 0);
    assert.equal(await deliver(server, event), 204);
    assert.equal((await hooks.waitFor(1, cmd.slack.responseUrl)).length, 1);
  });

  test('never logs the secret, the token or a response_url’s path', () => {
    const all = server.lines.join('\n');
    assert.ok(!all.includes(SECRET));
    assert.ok(!all.includes(TOKEN));
    assert.ok(!all.includes('/commands/T0FAKETEAM/'), 'a response_url path was logged');
  });
});
