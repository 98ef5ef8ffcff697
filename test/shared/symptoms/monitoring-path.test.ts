import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { dedupKey } from '../../../shared/notify/pagerduty-render.ts';
import { useNotifyFakes } from '../../support/notify-fakes.ts';
import { asDelivery, monitoringFixture } from './fixtures.ts';
import { auditEvent, edits, harness, pdBodies, posts, replies, slackText } from './support.ts';

const CLUSTER_FP = 'wi-auth-failures/orbit-prod/europe-west4/core-1';
/** Monitoring opened its incident at 10:03 and closed it at 10:25. */
const OPENED_AT = Date.parse('2026-11-28T10:03:00Z');

/** The open notification without the node: the alert is about the whole cluster. */
function clusterWide(): Record<string, unknown> {
  const notification = monitoringFixture('open') as {
    incident: { resource: { labels: Record<string, string> } };
  };
  const { node_name: _, ...labels } = notification.incident.resource.labels;
  return { ...notification, incident: { ...notification.incident, resource: { type: 'k8s_node', labels } } };
}

describe('the metadata server’s error rate (Cloud Monitoring notifications)', () => {
  const fakes = useNotifyFakes();

  test('nothing explains it: wi-auth-failures for the cluster, with its pools checked; closed resolves it', async () => {
    const h = harness(fakes, OPENED_AT + 60_000);
    const opened = await h.alerting.handle(asDelivery(monitoringFixture('open'), 'm-1'));
    assert.equal(opened.outcome, 'handled');
    assert.deepEqual(
      opened.findings.map((f) => [f.fingerprint, f.severity]),
      [[CLUSTER_FP, 'error']],
    );
    assert.equal(posts(fakes.slack).length, 1);
    const message = slackText(posts(fakes.slack)[0] as never);
    assert.match(
      message,
      /the metadata server of core-1 answered 27\.4% of its requests with errors \(alert above 1%\)/,
    );
    assert.match(message, /✓ 2\. node pools of its pods run the GKE metadata server: spot: all GKE_METADATA/);
    assert.match(
      message,
      /the GKE metadata server of core-1 has answered errors above the alert threshold since 10:03 UTC/,
    );

    // Delivered again: nothing new.
    const again = await h.alerting.handle(asDelivery(monitoringFixture('open'), 'm-1'));
    assert.equal(again.outcome, 'duplicate');
    assert.equal(fakes.slack.calls.length, 1);

    h.clock.set(Date.parse('2026-11-28T10:25:30Z'));
    const closed = await h.alerting.handle(asDelivery(monitoringFixture('closed-promql-labels'), 'm-2'));
    assert.equal(closed.outcome, 'handled');
    assert.equal((await h.store.current(CLUSTER_FP))?.status, 'resolved');
    assert.match(
      String(replies(fakes.slack).at(-1)?.body.text),
      /Cloud Monitoring closed incident 0\.nq4v2x8k1c7t/,
    );
    assert.deepEqual(
      pdBodies(fakes.pd).map((e) => [e.event_action, e.dedup_key]),
      [
        ['trigger', dedupKey(CLUSTER_FP)],
        ['resolve', dedupKey(CLUSTER_FP)],
      ],
    );
    assert.match(
      slackText(edits(fakes.slack).at(-1) as never),
      /🟢 Resolved: .*Cloud Monitoring closed its incident/,
    );
    assert.equal(posts(fakes.slack).length, 1);
  });

  test('a node-pool incident of the cluster explains it: evidence, no incident of its own', async () => {
    const h = harness(fakes, Date.parse('2026-11-10T09:10:35Z'));
    await h.alerting.handle(auditEvent('nodepool-gce-metadata'));
    h.clock.set(OPENED_AT + 60_000);
    const result = await h.alerting.handle(asDelivery(clusterWide(), 'm-3'));
    assert.deepEqual(result.findings, []);
    assert.deepEqual(
      (await h.store.listOpen()).map((i) => i.kind),
      ['nodepool-metadata-disabled'],
    );
    assert.equal(posts(fakes.slack).length, 1);
    assert.equal(replies(fakes.slack).length, 0);
    assert.match(
      slackText(edits(fakes.slack).at(-1) as never),
      /the metadata server of core-1 answered 27\.4% of its requests with errors \(alert above 1%\) since 10:03 UTC/,
    );
    const details = pdBodies(fakes.pd).at(-1)?.payload?.custom_details as {
      symptoms?: { monitoring?: unknown }[];
    };
    assert.deepEqual(details.symptoms?.[0]?.monitoring, {
      state: 'open',
      incidentId: '0.nq4v2x8k1c7t',
      observedValue: '0.274',
      thresholdValue: '0.01',
      url: 'https://console.cloud.google.com/monitoring/alerting/incidents/0.nq4v2x8k1c7t?project=orbit-prod',
      startedAt: '2026-11-28T10:03:00.000Z',
    });
  });

  test('an alert on one node is explained only by that node’s pool', async () => {
    const h = harness(fakes, Date.parse('2026-11-10T09:10:35Z'));
    await h.alerting.handle(auditEvent('nodepool-gce-metadata'));
    h.clock.set(OPENED_AT + 60_000);
    // The fixture's node is in spot; the incident is about highmem.
    const result = await h.alerting.handle(asDelivery(monitoringFixture('open'), 'm-4'));
    assert.deepEqual(
      result.findings.map((f) => f.fingerprint),
      [CLUSTER_FP],
    );
  });
});
