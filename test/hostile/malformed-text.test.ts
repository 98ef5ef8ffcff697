/**
 * One malformed string (issue 18, failure 4): a lone surrogate in an audit field, which JSON carries
 * as an escape and Firestore refuses. auditEvents, served by functions-framework on the Firestore
 * emulator, must clean it where the entry is decoded, store the incident, and page once; never
 * retry it as "no answer" until the dead-letter topic.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type FakePagerDuty, startFakePagerDuty } from '../fakes/pagerduty.ts';
import { type FakeSlack, startFakeSlack } from '../fakes/slack.ts';
import { type Emulator, startFirestoreEmulator } from '../support/emulators.ts';
import { type FunctionServer, startFunction } from '../support/function-server.ts';
import { sinkMessage } from '../support/pubsub.ts';
import { loadSnapshot } from '../support/snapshots.ts';
import { bindingEntry, type Link, withLinks } from '../support/wi-stream.ts';

const TOKEN = 'xoxb-hostile-malformed-0000';
const ROUTING_KEY = 'R0UT1NGKEY0000000000000000000042';

describe('a lone surrogate in an audit field pages once', () => {
  let firestore: Emulator;
  let slack: FakeSlack;
  let pagerduty: FakePagerDuty;
  let server: FunctionServer;
  let link: Link;
  let dir: string;

  before(async () => {
    [firestore, slack, pagerduty] = await Promise.all([
      startFirestoreEmulator(),
      startFakeSlack({ token: TOKEN }),
      startFakePagerDuty(),
    ]);
    dir = await mkdtemp(join(tmpdir(), 'wi-hostile-text-'));
    const built = withLinks(loadSnapshot() as unknown as Record<string, unknown>, 1);
    link = built.links[0] as Link;
    await writeFile(join(dir, 'snapshot.json'), JSON.stringify(built.snapshot));
    server = await startFunction('auditEvents', {
      env: {
        WI_SNAPSHOT: join(dir, 'snapshot.json'),
        WI_STATE: 'firestore',
        FIRESTORE_EMULATOR_HOST: firestore.host,
        GOOGLE_CLOUD_PROJECT: firestore.projectId,
        WI_FIRESTORE_PREFIX: `text${Date.now().toString(36)}-`,
        SLACK_BOT_TOKEN: TOKEN,
        SLACK_API_URL: slack.url,
        SLACK_CHANNEL: '#wi-alerts',
        PAGERDUTY_ROUTING_KEY: ROUTING_KEY,
        PAGERDUTY_EVENTS_URL: pagerduty.url,
      },
    });
  });
  after(async () => {
    await server?.stop();
    await Promise.all([slack?.stop(), pagerduty?.stop(), firestore?.stop()]);
    await rm(dir, { recursive: true, force: true });
  });

  test('the entry is cleaned, stored, posted once and paged once', async () => {
    const entry = bindingEntry(link, 'REMOVE', { insertId: 'surrogate-1' }) as {
      protoPayload: { authenticationInfo: { principalEmail: string } };
    };
    // JSON.stringify writes the lone surrogate as the escape \ud800, as a hostile producer would.
    entry.protoPayload.authenticationInfo.principalEmail = 'mallory\ud800@example.com';
    const body = JSON.stringify({
      message: { ...sinkMessage(entry as unknown as Record<string, unknown>), messageId: 'm-surrogate' },
      subscription: 'projects/p/subscriptions/s',
    });
    const started = Date.now();
    const response = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    await response.arrayBuffer();
    assert.equal(response.status, 204, server.lines.slice(-5).join('\n'));
    assert.ok(Date.now() - started < 10_000, 'answered well before the store deadline');

    const posts = slack.messages.filter((m) => m.thread_ts === undefined);
    assert.equal(posts.length, 1);
    assert.match(String(posts[0]?.text), /mallory\uFFFD@example\.com/);
    const triggers = pagerduty.events.filter(
      (e) => (e.body as { event_action?: string } | undefined)?.event_action === 'trigger',
    );
    assert.equal(triggers.length, 1);
    assert.doesNotMatch(JSON.stringify(triggers[0]?.body), /\\ud800/i);
    assert.ok(!server.lines.some((l) => /no answer within/.test(l)));
  });
});
