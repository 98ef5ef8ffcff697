/**
 * One delivery that amplifies (issue 18, failure 5): a single SetIamPolicy entry removing the
 * Workload Identity binding of 1,000 KSAs from one GSA. auditEvents, served by functions-framework
 * on the Firestore emulator, must tell it as a bounded number of incidents (one naming the scale),
 * log one line for the delivery with counts plus one per firing finding, and batch its store writes;
 * the repair of the same links resolves the same incidents.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { MAX_FINDINGS_PER_DELIVERY } from '../../shared/alerting/bound.ts';
import type { FakePagerDuty } from '../fakes/pagerduty.ts';
import type { FakeSlack } from '../fakes/slack.ts';
import { waitUntil } from '../support/function-server.ts';
import { pushed, type ServedAuditEvents, serveAuditEvents } from '../support/served-audit.ts';
import { bindingEntry, type Link, memberOf, WI_USER_ROLE } from '../support/wi-stream.ts';

const KSAS = 1_000;
const SHARED = 'shared@orbit-prod.iam.gserviceaccount.com';

/** The organization with its 1,000 new KSAs annotated with one GSA whose policy binds them all. */
function sharedGsa(organization: Record<string, unknown>, built: Link[]): Link[] {
  const links = built.map((link) => ({ ...link, gsa: SHARED, uniqueId: '130000000000000000001' }));
  const snapshot = organization as {
    projects: {
      serviceAccounts: unknown[];
      clusters: { serviceAccounts: { annotations: Record<string, string> }[] }[];
    }[];
  };
  const [project] = snapshot.projects;
  assert.ok(project);
  const ours = (email: string | undefined) => /^app-\d+@/.test(email ?? '');
  for (const ksa of project.clusters.flatMap((c) => c.serviceAccounts)) {
    if (ours(ksa.annotations['iam.gke.io/gcp-service-account']))
      ksa.annotations['iam.gke.io/gcp-service-account'] = SHARED;
  }
  project.serviceAccounts = project.serviceAccounts.filter((g) => !ours((g as { email?: string }).email));
  project.serviceAccounts.push({
    email: SHARED,
    uniqueId: '130000000000000000001',
    disabled: false,
    iamPolicy: { bindings: [{ role: WI_USER_ROLE, members: links.map(memberOf) }] },
  });
  return links;
}

describe('one change that breaks 1,000 links is a bounded delivery', () => {
  let slack: FakeSlack;
  let pagerduty: FakePagerDuty;
  let served: ServedAuditEvents;
  let links: Link[];

  before(async () => {
    served = await serveAuditEvents({
      links: KSAS,
      shape: sharedGsa,
      slack: true,
      pagerduty: true,
      firestore: true,
    });
    ({ slack, pagerduty, links } = served);
  });
  after(() => served?.stop());

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

  /** Pushes the entry; the lines the function logged for its delivery. */
  async function push(entry: Record<string, unknown>): Promise<Record<string, unknown>[]> {
    const { server } = served;
    const from = server.logs().length;
    await pushed(served, entry);
    const done = () =>
      server
        .logs()
        .slice(from)
        .some((l) => String(l.message).startsWith('delivery handled'));
    await waitUntil(done, 10_000);
    return server
      .logs()
      .slice(from)
      .filter((l) => l.eventId === entry.insertId);
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
