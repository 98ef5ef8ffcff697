import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createAlerting } from '../../../shared/alerting.ts';
import { createMemoryStore } from '../../../shared/incidents/memory-store.ts';
import type { IncidentStore } from '../../../shared/incidents/store.ts';
import type { Snapshot } from '../../../shared/inventory/snapshot.ts';
import { readSnapshotFile } from '../../../shared/inventory/snapshot-file.ts';
import { createLogger } from '../../../shared/log.ts';
import type { Routing } from '../../../shared/notify/routing.ts';
import type { SymptomOptions } from '../../../shared/symptoms/group.ts';
import type { FakePagerDuty } from '../../fakes/pagerduty.ts';
import type { FakeSlack } from '../../fakes/slack.ts';
import { edits, type NotifyFakes, posts, ROUTING_KEY, SLACK_TOKEN } from '../../support/notify-fakes.ts';
import { FIXTURES } from '../../support/paths.ts';
import { asDelivery, SYMPTOM_FIXTURES } from './fixtures.ts';

export { edits, posts, ROUTING_KEY, SLACK_TOKEN };

function sampleText(file: string): string {
  const entry = JSON.parse(readFileSync(join(SYMPTOM_FIXTURES, 'match', file), 'utf8')) as {
    textPayload?: string;
    jsonPayload?: { error?: string };
  };
  return entry.textPayload ?? entry.jsonPayload?.error ?? '';
}

/** What the libraries print, as the phase-1 samples hold it (each in its library's own wording). */
export const TEXT = {
  goDenied: sampleText('go/token-denied.json'),
  pythonDenied: sampleText('python/token-denied.json'),
  nodeInvalidGrant: sampleText('node/invalid-grant.json'),
};

export interface Failure {
  namespace: string;
  pod: string;
  container?: string;
  /** The node (its name carries the node pool). */
  node?: string;
  /** Epoch ms. */
  at: number;
  text: string;
  id?: string;
}

let ids = 0;

/** One container log entry as GKE's logging agent writes it, in orbit-prod's core-1. */
export function failureEntry(failure: Failure): Record<string, unknown> {
  const time = new Date(failure.at).toISOString();
  ids += 1;
  return {
    insertId: failure.id ?? `sym-${ids}-${failure.at.toString(36)}`,
    logName: 'projects/orbit-prod/logs/stderr',
    receiveTimestamp: time,
    resource: {
      type: 'k8s_container',
      labels: {
        project_id: 'orbit-prod',
        location: 'europe-west4',
        cluster_name: 'core-1',
        namespace_name: failure.namespace,
        pod_name: failure.pod,
        container_name: failure.container ?? failure.pod.split('-')[0],
      },
    },
    severity: 'ERROR',
    timestamp: time,
    ...(failure.node ? { labels: { 'compute.googleapis.com/resource_name': failure.node } } : {}),
    textPayload: failure.text,
  };
}

/** The entry as Eventarc delivers it from the workload sink's topic. */
export function failureDelivery(failure: Failure): Record<string, unknown> {
  const entry = failureEntry(failure);
  return asDelivery(entry, String(entry.insertId));
}

export function auditEvent(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(FIXTURES, 'events', `${name}.json`), 'utf8')) as Record<
    string,
    unknown
  >;
}

/** A settable clock: the tests move time as log entries would arrive. */
export function clock(start: number) {
  let at = start;
  return {
    now: () => new Date(at),
    set(ms: number) {
      at = ms;
    },
    advance(ms: number) {
      at += ms;
    },
  };
}

/**
 * Alerting with the symptom path on, the orbit-prod organization as a simulated inventory, the real
 * Slack and PagerDuty clients talking to the fakes.
 */
export function harness(
  fakes: NotifyFakes,
  start: number,
  {
    store = createMemoryStore(),
    options = {},
    routing = fakes.routing,
  }: { store?: IncidentStore; options?: Partial<SymptomOptions>; routing?: Routing } = {},
) {
  const lines: string[] = [];
  const logger = createLogger((line) => lines.push(line));
  let snapshot: Snapshot = readSnapshotFile(join(FIXTURES, 'snapshot.json'));
  const time = clock(start);
  const alerting = createAlerting({
    store,
    senders: fakes.senders(logger),
    routing,
    logger,
    now: time.now,
    inventory: { current: () => snapshot, update: (next) => (snapshot = next) },
    symptoms: options,
  });
  return { alerting, store, lines, clock: time, snapshot: () => snapshot };
}

export const replies = (slack: FakeSlack) =>
  slack.calls.filter((c) => c.method === 'chat.postMessage' && c.body.thread_ts);
export const pdBodies = (pd: FakePagerDuty) =>
  pd.events.map(
    (e) =>
      e.body as {
        event_action: string;
        dedup_key: string;
        payload?: {
          summary: string;
          severity: string;
          class: string;
          custom_details: Record<string, unknown>;
        };
      },
  );

/** Every text of a Slack call's blocks and fallback, joined: what people read. */
export function slackText(call: { body: Record<string, unknown> }): string {
  return JSON.stringify([call.body.text, call.body.blocks]);
}
