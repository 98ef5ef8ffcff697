/**
 * One delivery that amplifies (issue 18, failure 5): a single SetIamPolicy entry removing the
 * Workload Identity binding of 1,000 KSAs from one GSA. auditEvents, served by functions-framework
 * on the Firestore emulator, must tell it as a bounded number of incidents (one naming the scale),
 * log one line for the delivery with counts plus one per firing finding, and batch its store writes;
 * the repair of the same links resolves the same incidents.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { MAX_FINDINGS_PER_DELIVERY } from '../../shared/alerting/bound.ts';
import { type FakePagerDuty, startFakePagerDuty } from '../fakes/pagerduty.ts';
import { type FakeSlack, startFakeSlack } from '../fakes/slack.ts';
import { type Emulator, startFirestoreEmulator } from '../support/emulators.ts';
import { type FunctionServer, startFunction, waitUntil } from '../support/function-server.ts';
import { sinkMessage } from '../support/pubsub.ts';
import { loadSnapshot } from '../support/snapshots.ts';
import { bindingEntry, type Link, memberOf, WI_USER_ROLE, withLinks } from '../support/wi-stream.ts';

const TOKEN = 'xoxb-hostile-amplification-0000';
const ROUTING_KEY = 'R0UT1NGKEY0000000000000000000005';
const KSAS = 1_000;
const SHARED = 'shared@orbit-prod.iam.gserviceaccount.com';

describe('one change that breaks 1,000 links is a bounded delivery', () => {
  let firestore: Emulator;
  let slack: FakeSlack;
  let pagerduty: FakePagerDuty;
  let server: FunctionServer;
  let links: Link[];
  let dir: string;

  before(async () => {
    [firestore, slack, pagerduty] = await Promise.all([
      startFirestoreEmulator(),
      startFakeSlack({ token: TOKEN }),
      startFakePagerDuty(),
    ]);
    dir = await mkdtemp(join(tmpdir(), 'wi-hostile-many-'));
    // 1,000 KSAs annotated with one GSA whose policy binds them all.
    const built = withLinks(loadSnapshot() as unknown as Record<string, unknown>, KSAS);
    links = built.links.map((link) => ({ ...link, gsa: SHARED, uniqueId: '130000000000000000001' }));
    const snapshot = built.snapshot as {
      projects: {
        serviceAccounts: { email: string }[];
        clusters: { serviceAccounts: { annotations: Record<string, string> }[] }[];
      }[];
    };
    const [project] = snapshot.projects;
    assert.ok(project);
    for (const ksa of project.clusters.flatMap((c) => c.serviceAccounts)) {
      if (/^app-\d+@/.test(ksa.annotations['iam.gke.io/gcp-service-account'] ?? ''))
        ksa.annotations['iam.gke.io/gcp-service-account'] = SHARED;
    }
    project.serviceAccounts = project.serviceAccounts.filter((g) => !/^app-\d+@/.test(g.email));
    project.serviceAccounts.push({
      email: SHARED,
      uniqueId: '130000000000000000001',
      disabled: false,
      iamPolicy: { bindings: [{ role: WI_USER_ROLE, members: links.map(memberOf) }] },
    } as unknown as { email: string });
    await writeFile(join(dir, 'snapshot.json'), JSON.stringify(snapshot));
    server = await startFunction('auditEvents', {
      env: {
        WI_SNAPSHOT: join(dir, 'snapshot.json'),
        WI_STATE: 'firestore',
        FIRESTORE_EMULATOR_HOST: firestore.host,
        GOOGLE_CLOUD_PROJECT: firestore.projectId,
        WI_FIRESTORE_PREFIX: `many${Date.now().toString(36)}-`,
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

  /** One SetIamPolicy entry that removes (or adds) every KSA's binding on the shared GSA at once. */
  function everyBinding(action: 'REMOVE' | 'ADD', insertId: string): Record<string, unknown> {
    const entry = bindingEntry(links[0] as Link, action, { insertId }) as {
      protoPayload: {
        serviceData: { policyDelta: { bindingDeltas: unknown[] } };
        request: unknown;
        response: unknown;
      };
    };
    const members = links.map(memberOf);
    entry.protoPayload.serviceData.policyDelta.bindingDeltas = members.map((member) => ({
      action,
      role: WI_USER_ROLE,
      member,
    }));
    const policy = { bindings: action === 'ADD' ? [{ role: WI_USER_ROLE, members }] : [] };
    entry.protoPayload.request = { resource: `projects/-/serviceAccounts/${SHARED}`, policy };
    entry.protoPayload.response = policy;
    return entry as unknown as Record<string, unknown>;
  }

  async function push(entry: Record<string, unknown>): Promise<Record<string, unknown>[]> {
    const from = server.logs().length;
    const id = String(entry.insertId);
    const response = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        message: { ...sinkMessage(entry), messageId: id },
        subscription: 'projects/p/subscriptions/s',
      }),
    });
    await response.arrayBuffer();
    assert.equal(response.status, 204, server.lines.slice(-3).join('\n'));
    await waitUntil(
      () =>
        server
          .logs()
          .slice(from)
          .some((l) => String(l.message).startsWith('delivery handled')),
      10_000,
    );
    return server
      .logs()
      .slice(from)
      .filter((l) => l.eventId === id);
  }

  const pages = (action: string) =>
    pagerduty.events.filter(
      (e) => (e.body as { event_action?: string } | undefined)?.event_action === action,
    );

  test('1,000 links broken in one entry: at most the cap of incidents, one naming the scale', async () => {
    const lines = await push(everyBinding('REMOVE', 'many-remove'));
    const cap = MAX_FINDINGS_PER_DELIVERY;
    const posts = slack.messages.filter((m) => m.thread_ts === undefined);
    assert.equal(posts.length, cap, 'the cap, not 1,000');
    assert.equal(pages('trigger').length, cap);
    const scale = posts.find((m) =>
      /981 more binding-missing links broken by the same change/.test(String(m.text)),
    );
    assert.ok(scale, 'one incident names the scale');
    // One line for the delivery with its counts, one per firing finding, one per incident opened.
    const [handled, ...others] = lines.filter((l) => String(l.message).startsWith('delivery handled'));
    assert.equal(others.length, 0);
    assert.deepEqual(handled?.findings, { firing: cap, resolved: 0 });
    assert.deepEqual(handled?.incidents, { opened: cap, updated: 0, resolved: 0 });
    assert.ok(lines.length <= 2 * cap + 5, `${lines.length} log lines for one delivery`);
  });

  test('the repair of the same links resolves the same incidents', async () => {
    const lines = await push(everyBinding('ADD', 'many-add'));
    assert.equal(pages('resolve').length, MAX_FINDINGS_PER_DELIVERY);
    assert.equal(slack.messages.filter((m) => m.thread_ts === undefined).length, MAX_FINDINGS_PER_DELIVERY);
    const handled = lines.find((l) => String(l.message).startsWith('delivery handled'));
    assert.deepEqual(handled?.incidents, { opened: 0, updated: 0, resolved: MAX_FINDINGS_PER_DELIVERY });
    assert.ok(lines.length <= MAX_FINDINGS_PER_DELIVERY + 5, 'resolved findings are not logged one by one');
  });
});
