/**
 * A Slack answer lost after Slack made the post (issue 18, failure 3): the fake Slack takes the
 * post, then drops the connection or never answers. auditEvents, served by functions-framework,
 * must leave exactly one top-level message for the incident, and send every later edit to it:
 * whether it finds the post before retrying within the delivery, or in the delivery Pub/Sub brings
 * back after the first one failed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FakeSlack } from '../fakes/slack.ts';
import { type ServedAuditEvents, serveAuditEvents } from '../support/served-audit.ts';
import { bindingEntry, type Link } from '../support/wi-stream.ts';

describe('a lost Slack answer never doubles the incident’s message', () => {
  let slack: FakeSlack;
  let served: ServedAuditEvents;
  let links: Link[];

  before(async () => {
    served = await serveAuditEvents({ links: 2, slack: true });
    ({ slack, links } = served);
  });
  after(() => served?.stop());

  const push = (entry: Record<string, unknown>, messageId: string) => served.push(entry, messageId);
  const about = (link: Link) => slack.messages.filter((m) => m.text?.includes(link.ksa));
  const topLevel = (link: Link) => about(link).filter((m) => m.thread_ts === undefined);

  test('the connection drops after the post: found before the retry, edited on the repair', async () => {
    const link = links[0] as Link;
    slack.script('accept-then-drop');
    assert.equal(await push(bindingEntry(link, 'REMOVE', { insertId: 'drop-1' }), 'm-drop-1'), 204);
    assert.equal(topLevel(link).length, 1, JSON.stringify(slack.calls.map((c) => c.method)));
    assert.ok(slack.calls.some((c) => c.method === 'conversations.history'));

    assert.equal(await push(bindingEntry(link, 'ADD', { insertId: 'drop-2' }), 'm-drop-2'), 204);
    const [message] = topLevel(link);
    assert.equal(topLevel(link).length, 1);
    assert.equal(message?.edits, 1, 'the repair edits the one message');
    assert.equal(slack.messages.filter((m) => m.thread_ts === message?.ts).length, 1);
  });

  test('no answer, and no look possible: the redelivery finds the post and edits it', async () => {
    const link = links[1] as Link;
    // The post is made and never answered (10 s: the sender's timeout), then Slack fails the look.
    slack.script('accept-then-hang', { status: 500 }, { status: 500 }, { status: 500 });
    const entry = bindingEntry(link, 'REMOVE', { insertId: 'hang-1' });
    assert.equal(await push(entry, 'm-hang-1'), 500, 'failed: Pub/Sub brings it back');
    assert.equal(topLevel(link).length, 1);

    assert.equal(await push(entry, 'm-hang-1'), 204);
    assert.equal(topLevel(link).length, 1);
    const edited = topLevel(link)[0];
    assert.equal(edited?.edits, 1, 'brought up to date in place');

    assert.equal(await push(bindingEntry(link, 'ADD', { insertId: 'hang-2' }), 'm-hang-2'), 204);
    assert.equal(topLevel(link).length, 1);
    assert.equal(topLevel(link)[0]?.edits, 2);
  });
});
