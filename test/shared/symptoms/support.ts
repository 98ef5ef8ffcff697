import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createAlerting } from '../../../shared/alerting/alerting.ts';
import { type ApplyDeps, applyFindings } from '../../../shared/alerting/apply.ts';
import { entryKey } from '../../../shared/alerting/delivery.ts';
import type { Incident } from '../../../shared/domain/incident.ts';
import { decode } from '../../../shared/events/decode.ts';
import { createMemoryStore } from '../../../shared/incidents/memory-store.ts';
import type { IncidentStore } from '../../../shared/incidents/store.ts';
import type { Snapshot } from '../../../shared/inventory/snapshot.ts';
import { readSnapshotFile } from '../../../shared/live/snapshot-file.ts';
import { createLogger } from '../../../shared/log.ts';
import type { Routing } from '../../../shared/notify/routing.ts';
import { analyze } from '../../../shared/pipeline.ts';
import { classifySymptom, type Symptom } from '../../../shared/symptoms/classify.ts';
import { createContext } from '../../../shared/symptoms/context.ts';
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

/** What the symptom path makes of one failure's entry (decode → classify). */
export function symptomOf(failure: Failure): Symptom {
  const decoded = decode(failureEntry(failure));
  if (!decoded.ok) throw new Error(decoded.error);
  const classified = classifySymptom(decoded.delivery.entry);
  if (classified.type !== 'symptom') throw new Error(`not a symptom: ${classified.reason}`);
  return classified.symptom;
}

/**
 * The context the symptom path's units share (symptoms/context.ts), for testing a unit on its own:
 * a memory store, the orbit-prod organization, the real Slack and PagerDuty clients talking to the
 * fakes, and alerting's applyFindings (alerting/apply.ts) as the path to incidents. `open(name)`
 * applies an audit fixture's findings as the audit path would, and returns the incident.
 */
export function unitContext(
  fakes: NotifyFakes,
  start: number,
  {
    store = createMemoryStore(),
    options = {},
  }: { store?: IncidentStore; options?: Partial<SymptomOptions> } = {},
) {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger((line) => lines.push(JSON.parse(line)));
  const time = clock(start);
  const snapshot: Snapshot = readSnapshotFile(join(FIXTURES, 'snapshot.json'));
  const senders = fakes.senders(logger);
  const apply: ApplyDeps = { store, senders, routing: fakes.routing, now: time.now };
  const ctx = createContext({
    store,
    senders,
    routing: fakes.routing,
    logger,
    now: time.now,
    inventory: { current: () => snapshot },
    options,
    applyFindings: (findings, key, log, stepOptions) => applyFindings(apply, findings, key, log, stepOptions),
  });
  async function open(name: string): Promise<Incident> {
    const analysis = analyze(auditEvent(name), snapshot);
    if (analysis.outcome !== 'change') throw new Error(`${name} is no change`);
    const applied = await applyFindings(apply, analysis.findings, entryKey(analysis.delivery), logger.log);
    const incident = applied.incidents[0]?.incident;
    if (incident === undefined) throw new Error(`${name} opened no incident`);
    return incident;
  }
  return { ctx, store, lines, log: logger.log, clock: time, open };
}
