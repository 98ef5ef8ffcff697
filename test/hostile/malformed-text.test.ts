/**
 * One malformed string (issue 18, failure 4): a lone surrogate in an audit field, which JSON carries
 * as an escape and Firestore refuses. auditEvents, served by functions-framework on the Firestore
 * emulator, must clean it where the entry is decoded, store the incident, and page once; never
 * retry it as "no answer" until the dead-letter topic.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FakePagerDuty } from '../fakes/pagerduty.ts';
import type { FakeSlack } from '../fakes/slack.ts';
import { pushed, type ServedAuditEvents, serveAuditEvents } from '../support/served-audit.ts';
import { bindingEntry, type Link } from '../support/wi-stream.ts';

describe('a lone surrogate in an audit field pages once', () => {
  let slack: FakeSlack;
  let pagerduty: FakePagerDuty;
  let served: ServedAuditEvents;

  before(async () => {
    served = await serveAuditEvents({ slack: true, pagerduty: true, firestore: true });
    ({ slack, pagerduty } = served);
  });
  after(() => served?.stop());

  test('the entry is cleaned, stored, posted once and paged once', async () => {
    const entry = bindingEntry(served.links[0] as Link, 'REMOVE', { insertId: 'surrogate-1' }) as {
      protoPayload: { authenticationInfo: { principalEmail: string } };
    };
    // JSON.stringify writes the lone surrogate as the escape \ud800, as a hostile producer would.
    entry.protoPayload.authenticationInfo.principalEmail = 'mallory\ud800@example.com';
    // Acknowledged on the first delivery: not retried as "no answer" until the dead-letter topic.
    await pushed(served, entry as unknown as Record<string, unknown>);

    const posts = slack.messages.filter((m) => m.thread_ts === undefined);
    assert.equal(posts.length, 1);
    assert.match(String(posts[0]?.text), /mallory\uFFFD@example\.com/);
    const triggers = pagerduty.events.filter(
      (e) => (e.body as { event_action?: string } | undefined)?.event_action === 'trigger',
    );
    assert.equal(triggers.length, 1);
    assert.doesNotMatch(JSON.stringify(triggers[0]?.body), /\\ud800/i);
    assert.ok(!served.server.lines.some((l) => /no answer within/.test(l)));
  });
});
