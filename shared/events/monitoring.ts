import { z } from 'zod';
import type { ClusterRef } from '../domain/finding.ts';
import { toWellFormed } from '../domain/well-formed.ts';
import { formatIssues } from '../inventory/snapshot.ts';

/**
 * The metadata-server error rate, as a Cloud Monitoring alert policy whose Pub/Sub notification
 * channel feeds wi-sentinel, rather than a metric read in the sweep:
 * - no Monitoring client library on any function's path (the notification is a Pub/Sub message,
 *   decoded here like a log entry);
 * - Monitoring evaluates the condition every minute, where a sweep would see it only as often as it
 *   runs, and the sweep stays free of a per-cluster time-series query;
 * - Monitoring keeps the incident's state itself and says when it closes, so resolution needs no
 *   state of ours.
 *
 * This file holds the policy's condition (infra declares the policy from it) and the decoder of
 * the notifications, schema version 1.2:
 * https://cloud.google.com/monitoring/support/notification-options#schema-pubsub
 */

export const METADATA_SERVER_METRIC = 'kubernetes.io/node/metadata_server/request_count';
/**
 * The metric label holding the HTTP status the metadata server answered. Not confirmed against
 * Google's metric list (not in the reference corpus): change it here if the descriptor differs.
 */
export const METADATA_SERVER_CODE_LABEL = 'response_code';

/** The user label the policy carries, so its notifications are recognised whatever the metric type says. */
export const POLICY_USER_LABEL = { key: 'wi-sentinel', value: 'metadata-server-errors' } as const;

/**
 * Non-2xx answers above 1% of the metadata server's requests over 5 minutes, per cluster.
 * PromQL (MQL is deprecated); Monitoring's PromQL names `kubernetes.io/node/…` system metrics
 * `kubernetes_io:node_…`. A cluster with no requests divides by zero, yields no sample, and stays quiet.
 */
const PROMQL_METRIC = 'kubernetes_io:node_metadata_server_request_count';
const BY = 'sum by (project_id, location, cluster_name)';
export const METADATA_SERVER_ALERT_PROMQL = [
  `${BY} (rate(${PROMQL_METRIC}{monitored_resource="k8s_node",${METADATA_SERVER_CODE_LABEL}!~"2.."}[5m]))`,
  '/',
  `${BY} (rate(${PROMQL_METRIC}{monitored_resource="k8s_node"}[5m]))`,
  '> 0.01',
].join('\n');

/** The alert policy infra declares (google_monitoring_alert_policy), in the API's field names. */
export const METADATA_SERVER_ALERT_POLICY = {
  displayName: 'wi-sentinel: GKE metadata server errors',
  userLabels: { [POLICY_USER_LABEL.key]: POLICY_USER_LABEL.value },
  combiner: 'OR',
  conditions: [
    {
      displayName: 'metadata server non-2xx above 1% of requests over 5 minutes',
      conditionPrometheusQueryLanguage: {
        query: METADATA_SERVER_ALERT_PROMQL,
        duration: '0s',
        evaluationInterval: '60s',
      },
    },
  ],
  // An incident Monitoring forgets (data stops) still closes, and wi-sentinel hears of it.
  // Notify when the incident opens and when it closes: the closed notification resolves ours.
  alertStrategy: { autoClose: '1800s', notificationPrompts: ['OPENED', 'CLOSED'] },
  severity: 'ERROR',
} as const;

export const METADATA_SERVER_ERRORS = 'metadata-server-errors';

/** A metadata-server error-rate incident of one cluster, opened or closed by Monitoring. */
export interface MetadataServerAlert {
  kind: typeof METADATA_SERVER_ERRORS;
  state: 'open' | 'closed';
  project: string;
  cluster: ClusterRef;
  /** When the condition was per node (the policy above groups per cluster, so usually absent). */
  node?: string;
  incidentId: string;
  policy: string;
  condition?: string;
  summary?: string;
  url?: string;
  observedValue?: string;
  thresholdValue?: string;
  /** RFC 3339. */
  startedAt: string;
  endedAt?: string;
}

export type MonitoringResult =
  | { type: 'alert'; alert: MetadataServerAlert }
  | { type: 'ignored'; reason: string }
  | { type: 'invalid'; error: string };

const labels = z.record(z.string(), z.string()).optional();
/** Epoch seconds; `null` or 0 while the incident is open; some senders write strings. */
const epoch = z.union([z.number(), z.string(), z.null()]).optional();

const notificationSchema = z.looseObject({
  version: z.string(),
  incident: z.looseObject({
    incident_id: z.string().min(1),
    state: z.string(),
    started_at: epoch,
    ended_at: epoch,
    scoping_project_id: z.string().optional(),
    policy_name: z.string().optional(),
    policy_user_labels: labels,
    condition_name: z.string().optional(),
    summary: z.string().optional(),
    url: z.string().optional(),
    observed_value: z.union([z.string(), z.number()]).optional(),
    threshold_value: z.union([z.string(), z.number()]).optional(),
    resource: z.looseObject({ type: z.string().optional(), labels }).optional(),
    metric: z.looseObject({ type: z.string().optional(), labels }).optional(),
  }),
});

/** Whether a parsed Pub/Sub message body is a Monitoring notification (and not a LogEntry). */
export function isMonitoringNotification(value: unknown): boolean {
  return typeof value === 'object' && value !== null && 'incident' in value && 'version' in value;
}

function toTime(value: number | string | null | undefined): string | undefined {
  if (value === undefined || value === null || value === '' || value === 0 || value === '0') return undefined;
  const seconds = typeof value === 'number' ? value : Number(value);
  if (!Number.isFinite(seconds) || seconds <= 0) return undefined;
  return new Date(seconds * 1000).toISOString();
}

function text(value: string | number | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : String(value);
}

/** Decodes one notification (the JSON of the Pub/Sub message data). Never throws on data. */
export function decodeMonitoringNotification(value: unknown): MonitoringResult {
  // Cleaned as log entries are (events/decode.ts): what a notification says ends up stored and shown.
  const parsed = notificationSchema.safeParse(toWellFormed(value));
  if (!parsed.success) {
    return { type: 'invalid', error: `Monitoring notification: ${formatIssues(parsed.error.issues)}` };
  }
  const { incident, version } = parsed.data;
  const ours =
    incident.policy_user_labels?.[POLICY_USER_LABEL.key] === POLICY_USER_LABEL.value ||
    incident.metric?.type === METADATA_SERVER_METRIC;
  if (!ours) {
    return {
      type: 'ignored',
      reason: `Monitoring incident of another policy (${incident.policy_name ?? 'unnamed'}, version ${version})`,
    };
  }
  const state = incident.state.toLowerCase();
  if (state !== 'open' && state !== 'closed') {
    return {
      type: 'invalid',
      error: `Monitoring incident state ${JSON.stringify(incident.state)} is neither open nor closed`,
    };
  }
  // Per-cluster series put the group-by labels on the resource, or on the metric for PromQL.
  const where = { ...incident.metric?.labels, ...incident.resource?.labels };
  const project = where.project_id ?? incident.scoping_project_id;
  const location = where.location;
  const cluster = where.cluster_name;
  if (!project || !location || !cluster) {
    const missing = [
      project ? undefined : 'project_id',
      location ? undefined : 'location',
      cluster ? undefined : 'cluster_name',
    ].filter((label) => label !== undefined);
    return {
      type: 'invalid',
      error: `Monitoring incident ${incident.incident_id} names no ${missing.join(', ')}`,
    };
  }
  const startedAt = toTime(incident.started_at);
  if (startedAt === undefined) {
    return { type: 'invalid', error: `Monitoring incident ${incident.incident_id} has no started_at` };
  }
  const endedAt = toTime(incident.ended_at);
  const node = where.node_name;
  const observedValue = text(incident.observed_value);
  const thresholdValue = text(incident.threshold_value);
  return {
    type: 'alert',
    alert: {
      kind: METADATA_SERVER_ERRORS,
      state,
      project,
      cluster: { location, name: cluster },
      ...(node ? { node } : {}),
      incidentId: incident.incident_id,
      policy: incident.policy_name ?? METADATA_SERVER_ALERT_POLICY.displayName,
      ...(incident.condition_name ? { condition: incident.condition_name } : {}),
      ...(incident.summary ? { summary: incident.summary } : {}),
      ...(incident.url ? { url: incident.url } : {}),
      ...(observedValue ? { observedValue } : {}),
      ...(thresholdValue ? { thresholdValue } : {}),
      startedAt,
      ...(endedAt ? { endedAt } : {}),
    },
  };
}
