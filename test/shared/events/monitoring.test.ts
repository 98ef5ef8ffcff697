import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decode } from '../../../shared/events/decode.ts';
import {
  decodeMonitoringNotification,
  isMonitoringNotification,
  METADATA_SERVER_ALERT_POLICY,
  METADATA_SERVER_ALERT_PROMQL,
  METADATA_SERVER_CODE_LABEL,
  type MonitoringResult,
} from '../../../shared/events/monitoring.ts';
import { asDelivery, monitoringFixture } from '../symptoms/fixtures.ts';

function alertOf(result: MonitoringResult) {
  if (result.type !== 'alert') assert.fail(result.type === 'ignored' ? result.reason : result.error);
  return result.alert;
}

function incidentOf(notification: Record<string, unknown>): Record<string, unknown> {
  return notification.incident as Record<string, unknown>;
}

describe('Monitoring notifications (schema 1.2)', () => {
  it('an open incident of the metadata-server policy is a metadata-server-errors symptom of its cluster', () => {
    assert.deepEqual(alertOf(decodeMonitoringNotification(monitoringFixture('open'))), {
      kind: 'metadata-server-errors',
      state: 'open',
      project: 'orbit-prod',
      cluster: { location: 'europe-west4', name: 'core-1' },
      node: 'gke-core-1-spot-0b7d41c2-m2zt',
      incidentId: '0.nq4v2x8k1c7t',
      policy: 'wi-sentinel: GKE metadata server errors',
      condition: 'metadata server non-2xx above 1% of requests over 5 minutes',
      summary:
        'Metadata server request count for orbit-prod core-1 with metric labels {} returned a value of 0.274, above the threshold of 0.01.',
      url: 'https://console.cloud.google.com/monitoring/alerting/incidents/0.nq4v2x8k1c7t?project=orbit-prod',
      observedValue: '0.274',
      thresholdValue: '0.01',
      startedAt: '2026-11-28T10:03:00.000Z',
    });
  });

  it('a closed one carries its end, and finds the cluster in the metric labels (PromQL groups)', () => {
    const alert = alertOf(decodeMonitoringNotification(monitoringFixture('closed-promql-labels')));
    assert.equal(alert.state, 'closed');
    assert.equal(alert.endedAt, '2026-11-28T10:25:00.000Z');
    assert.deepEqual(alert.cluster, { location: 'europe-west4', name: 'core-1' });
    assert.equal(alert.project, 'orbit-prod');
    assert.equal(alert.node, undefined);
  });

  it('reads upper-case states and string epochs, as test notifications send them', () => {
    const notification = monitoringFixture('open');
    incidentOf(notification).state = 'OPEN';
    incidentOf(notification).started_at = '1795860180';
    incidentOf(notification).ended_at = 0;
    const alert = alertOf(decodeMonitoringNotification(notification));
    assert.equal(alert.state, 'open');
    assert.equal(alert.startedAt, '2026-11-28T10:03:00.000Z');
    assert.equal(alert.endedAt, undefined);
  });

  it('recognises the policy by its metric when the user label is gone', () => {
    const notification = monitoringFixture('open');
    incidentOf(notification).policy_user_labels = {};
    assert.equal(decodeMonitoringNotification(notification).type, 'alert');
  });

  it('ignores other policies’ incidents, naming the policy', () => {
    assert.deepEqual(decodeMonitoringNotification(monitoringFixture('other-policy')), {
      type: 'ignored',
      reason: 'Monitoring incident of another policy (checkout latency, version 1.2)',
    });
  });

  it('refuses what it cannot place, naming what is missing', () => {
    const noCluster = monitoringFixture('closed-promql-labels');
    incidentOf(noCluster).metric = { type: 'x', labels: {} };
    assert.deepEqual(decodeMonitoringNotification(noCluster), {
      type: 'invalid',
      error: 'Monitoring incident 0.nq4v2x8k1c7t names no location, cluster_name',
    });
    const badState = monitoringFixture('open');
    incidentOf(badState).state = 'acknowledged';
    assert.match(
      (decodeMonitoringNotification(badState) as { error: string }).error,
      /state "acknowledged" is neither open nor closed/,
    );
    const noStart = monitoringFixture('open');
    incidentOf(noStart).started_at = null;
    assert.match((decodeMonitoringNotification(noStart) as { error: string }).error, /has no started_at/);
    assert.match(
      (decodeMonitoringNotification({ version: '1.2', incident: {} }) as { error: string }).error,
      /^Monitoring notification: incident\.incident_id/,
    );
  });

  it('tells a notification from a LogEntry', () => {
    assert.equal(isMonitoringNotification(monitoringFixture('open')), true);
    assert.equal(isMonitoringNotification({ insertId: 'x', logName: 'y' }), false);
    assert.equal(isMonitoringNotification(null), false);
  });

  it('the LogEntry decoder says what a notification is instead of "not a LogEntry"', () => {
    for (const input of [monitoringFixture('open'), asDelivery(monitoringFixture('open'))]) {
      const decoded = decode(input);
      assert.equal(decoded.ok, false);
      assert.match(
        decoded.ok ? '' : decoded.error,
        /a Cloud Monitoring incident notification, not a LogEntry: auditEvents reads it on its symptom path$/,
      );
    }
  });
});

describe('the alert policy infra declares', () => {
  it('alerts when non-2xx answers exceed 1% of the metadata server requests over 5 minutes, per cluster', () => {
    assert.match(METADATA_SERVER_ALERT_PROMQL, /kubernetes_io:node_metadata_server_request_count/);
    assert.ok(METADATA_SERVER_ALERT_PROMQL.includes(`${METADATA_SERVER_CODE_LABEL}!~"2.."`));
    assert.equal(METADATA_SERVER_ALERT_PROMQL.match(/\[5m\]/g)?.length, 2);
    assert.equal(
      METADATA_SERVER_ALERT_PROMQL.match(/sum by \(project_id, location, cluster_name\)/g)?.length,
      2,
    );
    assert.match(METADATA_SERVER_ALERT_PROMQL, /> 0\.01$/);
  });

  it('carries the user label its notifications are recognised by', () => {
    assert.deepEqual(METADATA_SERVER_ALERT_POLICY.userLabels, { 'wi-sentinel': 'metadata-server-errors' });
    assert.equal(
      METADATA_SERVER_ALERT_POLICY.conditions[0].conditionPrometheusQueryLanguage.query,
      METADATA_SERVER_ALERT_PROMQL,
    );
  });
});
