import { describeActor } from '../domain/attribution.ts';
import type { Finding, KsaRef, WorkloadRef } from '../domain/finding.ts';
import { breachWords, fingerprintDigest, type Incident } from '../domain/incident.ts';
import { evidenceSentence, timelineOf } from './evidence-render.ts';
import { type Link, linksOf } from './links.ts';

/**
 * PagerDuty Events API v2 bodies, rendered purely from an incident (no I/O, no clock).
 * Format: https://developer.pagerduty.com/docs/events-api-v2/trigger-events/
 * (PagerDuty/developer-docs docs/events-API-v2/02-Trigger-Events.md; schema: PagerDuty/api-schema
 * reference/events-v2/openapiv3.json).
 */

/** `dedup_key`: "The maximum permitted length of this property is 255 characters." (trigger-events doc) */
export const MAX_DEDUP_KEY = 255;
/** `payload.summary`: "The maximum permitted length of this property is 1024 characters." (trigger-events doc) */
export const MAX_SUMMARY = 1024;
/** "Events API payloads are limited to 512 KB" https://developer.pagerduty.com/docs/events-api-v2/overview/ */
export const MAX_EVENT_BYTES = 512_000;

/*
 * Our own bounds (PagerDuty documents none for these fields). With them the largest possible trigger
 * is under 200 KB, well inside MAX_EVENT_BYTES, so no event is ever refused for its size.
 */
/** Items of a list (KSAs, workloads) shown before the rest is counted. */
export const LIST_LIMIT = 50;
/** Remediation steps shown. */
export const REMEDIATION_LIMIT = 10;
/** One rendered item or short field (a KSA, a workload, source, component, group). */
export const FIELD_LIMIT = 256;
/** The full summary, the fingerprint and other texts in custom_details. */
export const TEXT_LIMIT = 2048;
/**
 * A remediation step's command: whole, since Slack's message may cut it and PagerDuty is where the
 * full text is (an authoritative binding's HCL lists every member of the role).
 */
export const COMMAND_LIMIT = 8192;
/** A longer link would be useless once cut, so it is left out. */
export const LINK_LIMIT = 2048;

export const CLIENT = 'wi-sentinel';

export type PagerDutySeverity = 'critical' | 'error' | 'warning' | 'info';
export type PagerDutyAction = 'trigger' | 'acknowledge' | 'resolve';

export interface PagerDutyPayload {
  summary: string;
  source: string;
  severity: PagerDutySeverity;
  timestamp?: string;
  component?: string;
  group?: string;
  class: string;
  custom_details: Record<string, unknown>;
}

export interface PagerDutyTriggerEvent {
  routing_key: string;
  event_action: 'trigger';
  dedup_key: string;
  payload: PagerDutyPayload;
  links: Link[];
  client: typeof CLIENT;
}

/**
 * A resolve or an acknowledge carries only what identifies the alert (trigger-events doc, "Resolve"
 * example; https://developer.pagerduty.com/docs/events-api-v2/acknowledge-events/).
 */
export interface PagerDutyResolveEvent {
  routing_key: string;
  event_action: 'resolve' | 'acknowledge';
  dedup_key: string;
}

export type PagerDutyEvent = PagerDutyTriggerEvent | PagerDutyResolveEvent;

/**
 * The alert's dedup_key: a SHA-256 of the fingerprint in hex (64 characters, within MAX_DEDUP_KEY),
 * as Alertmanager hashes its group key. The same fingerprint always gives the same key, so a resolve
 * finds its trigger, and a trigger after a resolve opens a new alert.
 */
export function dedupKey(fingerprint: string): string {
  return fingerprintDigest(fingerprint);
}

export function toPagerDutyEvent(
  incident: Incident,
  routingKey: string,
  action: 'trigger',
): PagerDutyTriggerEvent;
export function toPagerDutyEvent(
  incident: Incident,
  routingKey: string,
  action: 'resolve' | 'acknowledge',
): PagerDutyResolveEvent;
export function toPagerDutyEvent(
  incident: Incident,
  routingKey: string,
  action: PagerDutyAction,
): PagerDutyEvent;
export function toPagerDutyEvent(
  incident: Incident,
  routingKey: string,
  action: PagerDutyAction,
): PagerDutyEvent {
  const dedup_key = dedupKey(incident.fingerprint);
  if (action !== 'trigger') return { routing_key: routingKey, event_action: action, dedup_key };
  const finding = incident.finding;
  const { source, component } = locationOf(finding);
  const timestamp = isoTime(finding.cause?.time) ?? isoTime(incident.updatedAt);
  return {
    routing_key: routingKey,
    event_action: 'trigger',
    dedup_key,
    payload: {
      summary: cut(
        `${breached(incident)}${oneLine(finding.summary) || `${finding.kind} in ${finding.project}`}`,
        MAX_SUMMARY,
      ),
      source: cut(source, FIELD_LIMIT),
      severity: incident.severity,
      ...(timestamp ? { timestamp } : {}),
      ...(component ? { component: cut(component, FIELD_LIMIT) } : {}),
      group: cut(
        finding.cluster ? `${finding.project}/${finding.cluster.name}` : finding.project,
        FIELD_LIMIT,
      ),
      class: finding.kind,
      custom_details: detailsOf(incident),
    },
    links: linksOf(finding).filter((link) => link.href.length <= LINK_LIMIT),
    client: CLIENT,
  };
}

/** A planned change that pages after all says why first: "planned change, but pods are failing since …: ". */
function breached(incident: Incident): string {
  return incident.planned?.breach ? `${breachWords(incident.planned.breach)}: ` : '';
}

export interface Location {
  /** `payload.source`: the GKE cluster resource name, the GSA's email, or the project. */
  source: string;
  /** `payload.component`: the part of the source that broke: node pool, KSA (or namespace), GSA. */
  component?: string;
}

/**
 * Where the broken link lives: IAM-side kinds in the GSA (a broad role in the project's policy), the
 * others in the cluster; when the finding lacks that field, the next most specific place.
 */
export function locationOf(finding: Finding): Location {
  const cluster = finding.cluster
    ? `projects/${finding.project}/locations/${finding.cluster.location}/clusters/${finding.cluster.name}`
    : undefined;
  const project = `projects/${finding.project}`;
  const ksa = ksaComponent(finding.ksas);
  const at = (source: string | undefined, component?: string): Location => ({
    source: source ?? cluster ?? finding.gsa ?? project,
    ...(component ? { component } : {}),
  });
  switch (finding.kind) {
    case 'cluster-wi-disabled':
      return at(cluster);
    case 'nodepool-metadata-disabled':
      return at(cluster, finding.nodePool);
    case 'annotation-missing':
    case 'metadata-egress-blocked':
    case 'key-file-override':
      return at(cluster, ksa);
    case 'binding-missing':
    case 'binding-orphaned':
      return at(finding.gsa, ksa);
    case 'gsa-missing':
    case 'gsa-disabled':
    case 'gsa-shared':
      return at(finding.gsa);
    case 'gsa-broad-role':
      return at(project, finding.gsa);
    case 'sentinel-degraded':
      // The fingerprint's last part names the failing self-check (sink, sink-writer, permissions, …).
      return at(project, finding.fingerprint.split('/').at(-1));
    case 'wi-auth-failures':
      // The failing KSA, or its namespace when the KSA is unknown; none for the metadata server's own.
      return at(cluster, ksa ?? finding.workloads?.[0]?.namespace);
  }
}

function ksaComponent(ksas: KsaRef[]): string | undefined {
  const [first] = ksas;
  if (first === undefined) return undefined;
  if (ksas.length === 1) return `${first.namespace}/${first.name}`;
  return ksas.every((ksa) => ksa.namespace === first.namespace) ? `${first.namespace}/*` : undefined;
}

function detailsOf(incident: Incident): Record<string, unknown> {
  const f = incident.finding;
  const details: Record<string, unknown> = {
    summary: cut(f.summary, TEXT_LIMIT),
    kind: f.kind,
    severity: incident.severity,
    project: f.project,
  };
  if (f.cluster) details.cluster = cut(`${f.cluster.location}/${f.cluster.name}`, FIELD_LIMIT);
  if (f.nodePool) details.node_pool = cut(f.nodePool, FIELD_LIMIT);
  if (f.gsa) details.gsa = cut(f.gsa, FIELD_LIMIT);
  details.ksas = bounded(f.ksas, ksaText);
  details.ksa_count = f.ksas.length;
  if (f.workloads && f.workloads.length > 0) {
    details.workloads = bounded(f.workloads, workloadText);
    details.workload_count = f.workloads.length;
  }
  const cause = f.cause;
  if (cause) {
    if (cause.actor) details.actor = cut(cause.actor, FIELD_LIMIT);
    details.method = cut(cause.method, FIELD_LIMIT);
    if (cause.time) details.time = cut(cause.time, FIELD_LIMIT);
    if (cause.insertId) details.insert_id = cut(cause.insertId, FIELD_LIMIT);
    if (cause.operationId) details.operation = cut(cause.operationId, FIELD_LIMIT);
    if (cause.via) {
      details.via = cut(describeActor(cause), TEXT_LIMIT);
      details.tool = cause.via.tool;
    }
    if (cause.delegation && cause.delegation.length > 0)
      details.delegation = bounded(cause.delegation, (p) => cut(p, FIELD_LIMIT));
    if (cause.userAgent) details.user_agent = cut(cause.userAgent, TEXT_LIMIT);
    if (cause.replaced) details.replaced = { ...cause.replaced };
  }
  if (f.remediationWarning) details.remediation_warning = cut(f.remediationWarning, TEXT_LIMIT);
  const steps = f.remediation ?? [];
  if (steps.length > 0) {
    details.remediation = steps.slice(0, REMEDIATION_LIMIT).map((step) => ({
      title: cut(step.title, FIELD_LIMIT),
      command: cut(step.command, COMMAND_LIMIT),
      ...(step.tool ? { tool: step.tool } : {}),
      ...(step.language ? { language: step.language } : {}),
    }));
    if (steps.length > REMEDIATION_LIMIT) details.remediation_count = steps.length;
  }
  if (incident.planned) {
    const { id, reason, author, until, breach } = incident.planned;
    details.planned = {
      id,
      reason: cut(reason, TEXT_LIMIT),
      author: cut(author, FIELD_LIMIT),
      ...(until ? { until } : {}),
      ...(breach ? { breach: { ...breach, words: breachWords(breach) } } : {}),
    };
  }
  Object.assign(details, symptomDetails(incident));
  details.fingerprint = cut(incident.fingerprint, TEXT_LIMIT);
  details.incident = incident.id;
  details.opened_at = incident.openedAt;
  return details;
}

/** Evidence shown per incident, and samples per group: bounded like the lists above. */
const EVIDENCE_LIMIT = 10;
const SAMPLE_LIMIT = 600;

/**
 * What workloads feel (symptom evidence, redacted samples), the timeline change → first failure →
 * repair → last failure, the live diagnosis and what explains a symptom incident. Empty when none.
 */
function symptomDetails(incident: Incident): Record<string, unknown> {
  const details: Record<string, unknown> = {};
  const evidence = (incident.evidence ?? []).slice(0, EVIDENCE_LIMIT);
  if (evidence.length > 0) {
    details.symptoms = evidence.map((e) => ({
      what: cut(
        evidenceSentence(incident, e, (iso) => iso),
        TEXT_LIMIT,
      ),
      failures: e.count,
      first_seen: e.firstSeen,
      last_seen: e.lastSeen,
      kinds: e.kinds,
      pods: e.pods,
      ...(e.nodePools.length > 0 ? { node_pools: e.nodePools.slice(0, LIST_LIMIT) } : {}),
      ...(e.workloads.length > 0 ? { workloads: e.workloads.slice(0, LIST_LIMIT) } : {}),
      ...(e.alert ? { monitoring: { ...e.alert } } : {}),
      samples: e.samples.map((sample) => ({
        time: sample.time,
        pod: cut(sample.pod, FIELD_LIMIT),
        library: sample.library,
        kind: sample.kind,
        message: cut(sample.message, SAMPLE_LIMIT),
      })),
    }));
    details.timeline = timelineOf(incident).map((t) => cut(`${t.at} ${t.label}: ${t.text}`, TEXT_LIMIT));
  }
  const d = incident.diagnosis;
  if (d) {
    details.diagnosis = {
      verdict: cut(d.verdict, TEXT_LIMIT),
      checked_at: d.checkedAt,
      links: d.links.map((l) => cut(`${l.status} ${l.link}. ${l.name}: ${l.detail}`, TEXT_LIMIT)),
    };
  }
  if (incident.explainedBy && incident.explainedBy.length > 0) {
    details.explained_by = incident.explainedBy.map((r) =>
      cut(`${r.kind} incident ${r.id}: ${r.summary}`, TEXT_LIMIT),
    );
  }
  return details;
}

/** KSAs as IAM names them: `POOL[NAMESPACE/NAME]`. */
function ksaText(ksa: KsaRef): string {
  return cut(`${ksa.workloadPool}[${ksa.namespace}/${ksa.name}]`, FIELD_LIMIT);
}

function workloadText(w: WorkloadRef): string {
  const where = [w.nodePool, w.pods === undefined ? undefined : `${w.pods} pod${w.pods === 1 ? '' : 's'}`]
    .filter((part) => part !== undefined)
    .join(', ');
  return cut(`${w.cluster}: ${w.namespace} ${w.kind}/${w.name}${where ? ` (${where})` : ''}`, FIELD_LIMIT);
}

/** The first `limit` items rendered (only those: a list may be huge), then one line counting the rest. */
export function bounded<T>(items: readonly T[], render: (item: T) => string, limit = LIST_LIMIT): string[] {
  const shown = items.slice(0, limit).map(render);
  return items.length > limit ? [...shown, `… and ${items.length - limit} more`] : shown;
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

function isoTime(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

/**
 * Cuts `text` to at most `max` UTF-16 units (so at most `max` characters however they are counted),
 * ending with `…`: never inside a surrogate pair, at a word boundary when one is near the end.
 */
export function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max - 1;
  const code = text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end -= 1;
  const space = text.lastIndexOf(' ', end);
  if (space > end * 0.9) end = space;
  return `${text.slice(0, end).trimEnd()}…`;
}
