import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Incident } from '../../../shared/domain/incident.ts';
import { dedupKey } from '../../../shared/notify/pagerduty-render.ts';
import { useNotifyFakes } from '../../support/notify-fakes.ts';
import {
  auditEvent,
  edits,
  failureDelivery,
  harness,
  pdBodies,
  posts,
  replies,
  slackText,
  TEXT,
} from './support.ts';

/** nodepool-gce-metadata: deployer@ puts highmem of core-1 on GCE_METADATA at 09:10:30. */
const CHANGE_AT = Date.parse('2026-11-10T09:10:30.114552Z');
const POOL_FP = 'nodepool-metadata-disabled/orbit-prod/europe-west4/core-1/highmem';
/** pricing-0 (checkout/pricing) runs on highmem. */
const pricing = (at: number) => ({
  namespace: 'checkout',
  pod: 'pricing-0',
  node: 'gke-core-1-highmem-1a2b3c4d-x9k2',
  at,
  text: TEXT.pythonDenied,
});

describe('symptoms joined to their causes, through the real Slack and PagerDuty clients', () => {
  const fakes = useNotifyFakes();

  /** Delivers one failure with the clock just after it. */
  async function fail(h: ReturnType<typeof harness>, failure: Parameters<typeof failureDelivery>[0]) {
    h.clock.set(failure.at + 2_000);
    return h.alerting.handle(failureDelivery(failure));
  }

  test('change first: failures become the open incident’s evidence, edited in place, never paged again', async () => {
    const h = harness(fakes, CHANGE_AT + 5_000);
    const opened = await h.alerting.handle(auditEvent('nodepool-gce-metadata'));
    assert.equal(opened.incidents[0]?.transition, 'opened');
    for (let i = 0; i < 10; i++) await fail(h, pricing(CHANGE_AT + 40_000 + i * 20_000));

    assert.equal(posts(fakes.slack).length, 1, 'one message for the incident');
    assert.equal(replies(fakes.slack).length, 0, 'evidence is no news: no thread reply');
    const edited = edits(fakes.slack);
    assert.ok(
      edited.length >= 2 && edited.length <= 4,
      `${edited.length} edits for 10 failures over 3 minutes`,
    );
    const last = slackText(edited.at(-1) as never);
    assert.match(
      last,
      /checkout\/pricing has failed 10 token requests since 09:11 UTC, 40 s after deployer@orbit-prod\.iam\.gserviceaccount\.com put highmem on GCE_METADATA/,
    );
    assert.match(
      last,
      /\*change\*: .*\*first failure\*: pricing-0 \(python: token refused \(403\)\).*\*last failure\*: 10 failures/,
    );

    const events = pdBodies(fakes.pd);
    assert.ok(events.every((e) => e.event_action === 'trigger' && e.dedup_key === dedupKey(POOL_FP)));
    assert.equal(
      events.length,
      1 + edited.length,
      'each edit updates PagerDuty’s details under the same key',
    );
    const details = events.at(-1)?.payload?.custom_details as Record<string, unknown>;
    assert.match(
      String((details.timeline as string[])[0]),
      /^2026-11-10T09:10:30\.114552Z change: deployer@/,
    );
    assert.equal((details.symptoms as { failures: number }[])[0]?.failures, 10);

    const open = await h.store.listOpen();
    assert.deepEqual(
      open.map((i) => i.kind),
      ['nodepool-metadata-disabled'],
      'explained failures open nothing',
    );
  });

  test('symptom first: the incident that opens later carries the failures in its first message', async () => {
    const h = harness(fakes, CHANGE_AT);
    for (let i = 0; i < 3; i++) {
      const result = await fail(h, pricing(CHANGE_AT + 40_000 + i * 20_000));
      assert.equal(result.outcome, 'handled');
      assert.deepEqual(result.findings, []);
    }
    assert.equal(fakes.slack.calls.length + fakes.pd.events.length, 0, 'failures for 40 s page nobody yet');
    h.clock.set(CHANGE_AT + 90_000);
    await h.alerting.handle(auditEvent('nodepool-gce-metadata'));
    assert.equal(posts(fakes.slack).length, 1);
    assert.match(
      slackText(posts(fakes.slack)[0] as never),
      /checkout\/pricing has failed 3 token requests since 09:11 UTC, 40 s after/,
    );
    const [trigger] = pdBodies(fakes.pd);
    const symptoms = trigger?.payload?.custom_details.symptoms as { failures: number }[] | undefined;
    assert.equal(symptoms?.[0]?.failures, 3);

    // The next failure within the minute waits; one a minute later is shown.
    await fail(h, pricing(CHANGE_AT + 100_000));
    assert.equal(edits(fakes.slack).length, 0);
    await fail(h, pricing(CHANGE_AT + 160_000));
    assert.equal(edits(fakes.slack).length, 1);
    assert.match(slackText(edits(fakes.slack)[0] as never), /has failed 5 token requests/);
    assert.equal(replies(fakes.slack).length, 0);
  });

  test('a failure nothing explains opens wi-auth-failures with the diagnosis: the broken link and its repair', async () => {
    const start = Date.parse('2026-11-28T10:02:00Z');
    const h = harness(fakes, start);
    // search/indexer: its pod sets GOOGLE_APPLICATION_CREDENTIALS (link 7 broken in the organization).
    const indexer = (at: number) => ({
      namespace: 'search',
      pod: 'indexer-x7',
      node: 'gke-core-1-spot-0b7d41c2-m2zt',
      at,
      text: TEXT.pythonDenied,
    });
    await fail(h, indexer(start));
    await fail(h, indexer(start + 60_000));
    assert.equal(
      fakes.slack.calls.length,
      0,
      'a minute of failures: the change behind them may still arrive',
    );
    const result = await fail(h, indexer(start + 150_000));

    const [finding] = result.findings;
    assert.equal(finding?.fingerprint, 'wi-auth-failures/orbit-prod/europe-west4/core-1/search/indexer');
    assert.equal(finding?.severity, 'critical', 'the diagnosis found a broken link');
    assert.equal(posts(fakes.slack).length, 1);
    const message = slackText(posts(fakes.slack)[0] as never);
    assert.match(message, /Workloads fail to get Google credentials \(critical\)/);
    assert.match(
      message,
      /Live diagnosis.*broken: link 7 \(key-file-override\) of search\/indexer in core-1/,
    );
    assert.match(message, /✗ 7\. pods use the KSA, no key file/);
    assert.match(message, /kubectl set env cronjob\/indexer -n search GOOGLE_APPLICATION_CREDENTIALS-/);
    assert.match(message, /search\/indexer has failed 3 token requests since 10:02 UTC/);
    const [trigger] = pdBodies(fakes.pd);
    assert.equal(trigger?.payload?.severity, 'critical');
    assert.equal(trigger?.payload?.class, 'wi-auth-failures');
    assert.match(
      String((trigger?.payload?.custom_details.diagnosis as { verdict?: string } | undefined)?.verdict),
      /^broken: link 7 \(key-file-override\)/,
    );

    // More failures refresh it (at most once a minute), never a second page.
    for (let i = 1; i <= 6; i++) await fail(h, indexer(start + 150_000 + i * 30_000));
    assert.equal(posts(fakes.slack).length, 1);
    assert.ok(
      edits(fakes.slack).length >= 2 && edits(fakes.slack).length <= 3,
      `${edits(fakes.slack).length} edits`,
    );
    assert.ok(
      pdBodies(fakes.pd).every((e) => e.event_action === 'trigger' && e.dedup_key === trigger?.dedup_key),
    );
  });

  test('a healthy chain says so: invalid_grant from a key or a user’s token is not Workload Identity', async () => {
    const start = Date.parse('2026-11-28T10:02:00Z');
    const h = harness(fakes, start);
    const query = (at: number) => ({
      namespace: 'search',
      pod: 'query-1',
      node: 'gke-core-1-general-5f2c9a1e-x8kq',
      at,
      text: TEXT.nodeInvalidGrant,
    });
    for (const s of [0, 70, 140]) await fail(h, query(start + s * 1000));
    const [incident] = await h.store.listOpen();
    assert.equal(incident?.kind, 'wi-auth-failures');
    assert.equal(incident?.severity, 'error');
    assert.match(
      incident?.finding.summary ?? '',
      /every Workload Identity link holds, so invalid_grant comes from a key file or a user OAuth refresh token/,
    );
    assert.deepEqual(
      incident?.finding.remediation?.map((r) => r.command).filter((c) => c.startsWith('kubectl exec')),
      ['kubectl exec -n search query-1 -- gcloud auth list'],
    );
    assert.equal(incident?.diagnosis?.healthy, true);
    assert.match(slackText(posts(fakes.slack)[0] as never), /✓ 5\. GSA/);
  });

  test('a symptom incident opened before its cause says which incident explains it, without a new page', async () => {
    // gsa-binding-removed: cart@'s binding for checkout/cart, removed at 09:12:41 (the entry arrives late).
    const start = Date.parse('2026-11-04T09:12:50Z');
    const h = harness(fakes, start);
    const cart = (at: number) => ({
      namespace: 'checkout',
      pod: 'cart-6d8-a',
      node: 'gke-core-1-general-7f3a9c1e-x2lq',
      at,
      text: TEXT.goDenied,
    });
    for (const s of [0, 60, 130]) await fail(h, cart(start + s * 1000));
    const [symptomIncident] = await h.store.listOpen();
    assert.equal(symptomIncident?.kind, 'wi-auth-failures');
    assert.equal(posts(fakes.slack).length, 1);

    h.clock.set(start + 140_000);
    const change = await h.alerting.handle(auditEvent('gsa-binding-removed'));
    assert.equal(change.incidents[0]?.transition, 'opened');
    assert.equal(posts(fakes.slack).length, 2, 'the cause opens its own incident');
    assert.match(
      slackText(posts(fakes.slack)[1] as never),
      /checkout\/cart has failed 3 token requests since 09:12 UTC, 9 s after/,
    );

    const linked = (await h.store.current(symptomIncident?.fingerprint ?? '')) as Incident;
    assert.equal(linked.explainedBy?.[0]?.kind, 'binding-missing');
    assert.equal(linked.explainedBy?.[0]?.id, change.incidents[0]?.incident.id);
    const [reply] = replies(fakes.slack);
    assert.equal(replies(fakes.slack).length, 1, 'one thread reply on the symptom incident: it is news');
    assert.equal(
      reply?.body.thread_ts,
      fakes.slack.messages.find((m) => m.channel === reply?.body.channel)?.ts,
    );
    assert.match(String(reply?.body.text), /explained by binding-missing incident/);
    assert.match(slackText(edits(fakes.slack).at(-1) as never), /Explained by/);
    const keys = pdBodies(fakes.pd).map((e) => e.dedup_key);
    assert.equal(new Set(keys).size, 2, 'PagerDuty: two alerts, the symptom one updated under its key');
    assert.ok(pdBodies(fakes.pd).every((e) => e.event_action === 'trigger'));

    // Later failures are evidence of both; the symptom incident is not linked twice.
    await fail(h, cart(start + 220_000));
    assert.equal(replies(fakes.slack).length, 1);
    const binding = await h.store.current(change.incidents[0]?.incident.fingerprint ?? '');
    assert.equal(binding?.evidence?.[0]?.count, 4);
  });

  test('secrets in failing logs never reach Slack or PagerDuty', async () => {
    const start = Date.parse('2026-11-28T10:02:00Z');
    const h = harness(fakes, start);
    const secrets = [
      'ya29.a0AfB_byCsecretTOKENvalue1234567890',
      'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzZWNyZXQifQ.c2lnbmF0dXJlc2VjcmV0',
      '1//0gSecretRefreshTokenValue_abcdefghijk',
    ];
    // The client's debug output around the error: a header and a form body, right after the wording.
    const text = `${TEXT.nodeInvalidGrant}request: Authorization: Bearer ${secrets[0]} body: assertion=${secrets[1]}&refresh_token=${secrets[2]}\n`;
    const leaky = (at: number) => ({
      namespace: 'search',
      pod: 'query-1',
      node: 'gke-core-1-general-5f2c9a1e-x8kq',
      at,
      text,
    });
    for (const s of [0, 70, 140, 210]) await fail(h, leaky(start + s * 1000));
    assert.equal(posts(fakes.slack).length, 1, 'the unexplained failures paged');
    const sent = [
      ...fakes.slack.calls.map((c) => JSON.stringify(c.body)),
      ...fakes.pd.events.map((e) => e.raw),
    ].join('\n');
    assert.match(sent, /REDACTED/);
    for (const secret of secrets) assert.ok(!sent.includes(secret), `${secret.slice(0, 12)}… leaked`);
    for (const line of h.lines) for (const secret of secrets) assert.ok(!line.includes(secret));
  });
});
