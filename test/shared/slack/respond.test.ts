import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../../../shared/log.ts';
import { NotifyError } from '../../../shared/notify/errors.ts';
import { createRespond, describeResponseUrl, isAllowedResponseUrl } from '../../../shared/slack/respond.ts';
import { type FakeResponseUrl, startFakeResponseUrl } from '../../fakes/response-url.ts';

describe('isAllowedResponseUrl', () => {
  it('allows only Slack’s hooks host and slash-command paths, plus origins named for tests', () => {
    assert.equal(isAllowedResponseUrl('https://hooks.slack.com/commands/T1/2/abc'), true);
    assert.equal(
      isAllowedResponseUrl('https://hooks.slack.com/services/T1/B2/abc'),
      false,
      'an incoming webhook',
    );
    assert.equal(isAllowedResponseUrl('http://hooks.slack.com/commands/T1/2/abc'), false, 'not https');
    assert.equal(isAllowedResponseUrl('https://hooks.slack.com.attacker.example/commands/x'), false);
    assert.equal(isAllowedResponseUrl('https://user:pw@hooks.slack.com/commands/x'), false);
    assert.equal(isAllowedResponseUrl('https://hooks.slack.com:8443/commands/x'), false);
    assert.equal(isAllowedResponseUrl('not a url'), false);
    assert.equal(isAllowedResponseUrl('http://127.0.0.1:9/commands/x'), false);
    assert.equal(isAllowedResponseUrl('http://127.0.0.1:9/commands/x', ['http://127.0.0.1:9']), true);
    assert.equal(isAllowedResponseUrl('http://127.0.0.1:9/other', ['http://127.0.0.1:9']), false);
  });

  it('describes a URL by its origin only: the path is the secret', () => {
    assert.equal(
      describeResponseUrl('https://hooks.slack.com/commands/T1/2/secret'),
      'https://hooks.slack.com/commands/…',
    );
  });
});

describe('createRespond, against a fake response_url', () => {
  let hooks: FakeResponseUrl;
  before(async () => {
    hooks = await startFakeResponseUrl();
  });
  after(() => hooks.stop());

  const reply = { response_type: 'ephemeral' as const, text: 'hello', replace_original: false };

  it('posts the reply as JSON', async () => {
    const url = hooks.newUrl();
    await createRespond()(url, reply);
    const [post] = await hooks.waitFor(1, url);
    assert.equal(post?.headers['content-type'], 'application/json; charset=utf-8');
    assert.deepEqual(post?.body, reply);
  });

  it('retries a 5xx and a 429, then gives up with a retryable error that hides the path', async () => {
    const url = hooks.newUrl();
    const lines: string[] = [];
    const respond = createRespond({ retries: 2, backoffMs: 1, logger: createLogger((l) => lines.push(l)) });
    hooks.script({ status: 503 }, { status: 429 });
    await respond(url, reply);
    assert.equal(hooks.accepted(url).length, 1);
    assert.equal(lines.length, 2);
    hooks.script({ status: 500 }, { status: 500 }, { status: 500 });
    await assert.rejects(respond(url, reply), (error: unknown) => {
      assert.ok(error instanceof NotifyError);
      assert.equal(error.retryable, true);
      assert.equal(error.status, 500);
      assert.ok(!error.message.includes(new URL(url).pathname), error.message);
      return true;
    });
    assert.ok(lines.every((line) => !line.includes(new URL(url).pathname)));
  });

  it('does not retry what a retry cannot cure: a URL used five times', async () => {
    const url = hooks.newUrl();
    const respond = createRespond({ backoffMs: 1 });
    for (let i = 0; i < 5; i++) await respond(url, reply);
    const before = hooks.posts.length;
    await assert.rejects(respond(url, reply), (error: unknown) => {
      assert.ok(error instanceof NotifyError);
      assert.equal(error.retryable, false);
      assert.match(error.message, /HTTP 404 used_url/);
      return true;
    });
    assert.equal(hooks.posts.length, before + 1, 'one attempt only');
  });

  it('cuts a request that hangs at its timeout, and calls it retryable', async () => {
    const url = hooks.newUrl();
    hooks.script('hang');
    await assert.rejects(createRespond({ timeoutMs: 200, retries: 0 })(url, reply), (error: unknown) => {
      assert.ok(error instanceof NotifyError);
      assert.equal(error.retryable, true);
      assert.match(error.message, /timed out after 200 ms/);
      return true;
    });
  });
});
