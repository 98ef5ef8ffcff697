import type { ClusterRef } from '../domain/finding.ts';
import type { LogEntry } from '../events/schemas.ts';
import { rfc3339 } from '../events/time.ts';
import { sample } from './redact.ts';
import { type Library, METADATA_SERVER_POD, matchSymptom, type SymptomKind } from './signatures.ts';

/**
 * A workload's credential failure, read from one container log entry. The entry names the pod, not
 * its Kubernetes service account: resolve.ts maps the pod to its KSA, owner and node pool from an
 * inventory, and window.ts aggregates symptoms per cluster / namespace / KSA.
 */
export interface Symptom {
  kind: SymptomKind;
  library: Library;
  /** The signature id that matched (`library/kind`), or `gke-metadata-server/pod` for its own lines. */
  signature: string;
  project: string;
  cluster: ClusterRef;
  namespace: string;
  pod: string;
  container: string;
  /** The node, when the entry says (`compute.googleapis.com/resource_name`). */
  node?: string;
  /** A redacted sample of the text, around the signature's wording. */
  message: string;
  /** RFC 3339, from the entry (`timestamp`, else `receiveTimestamp`). */
  time: string;
  insertId?: string;
}

export type SymptomResult = { type: 'symptom'; symptom: Symptom } | { type: 'ignored'; reason: string };

const CONTAINER = 'k8s_container';
/** What the metadata server's own lines are recognised by: where they run. */
const METADATA_SERVER_SIGNATURE = 'gke-metadata-server/pod';
const REQUIRED_LABELS = [
  'project_id',
  'location',
  'cluster_name',
  'namespace_name',
  'pod_name',
  'container_name',
] as const;

/**
 * Structured-log fields that carry the text, as the common loggers name them (zap and logrus:
 * `msg` / `error`; pino: `msg` / `err`; logback JSON: `message` / `stack_trace`; Cloud Logging's
 * own agents: `message`). An `err` / `error` object contributes its `message` and `stack`.
 */
export const TEXT_FIELDS = ['message', 'msg', 'error', 'err', 'exception', 'stack_trace'] as const;
export const NESTED_TEXT_FIELDS = ['message', 'stack'] as const;

const ERROR_SEVERITIES = new Set(['ERROR', 'CRITICAL', 'ALERT', 'EMERGENCY']);
/** klog's error prefix (`E1128 10:02:03.123456 1 file.go:42] …`), for lines without a severity. */
const KLOG_ERROR = /^E\d{4} \d\d:\d\d:\d\d/;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The text a person would read in the entry; empty when it carries none. */
export function textOf(entry: LogEntry): string {
  const text = entry.textPayload;
  if (typeof text === 'string') return text;
  const json = entry.jsonPayload;
  if (!isObject(json)) return '';
  const parts: string[] = [];
  for (const field of TEXT_FIELDS) {
    const value = json[field];
    if (typeof value === 'string') parts.push(value);
    else if (isObject(value)) {
      for (const nested of NESTED_TEXT_FIELDS) {
        const inner = value[nested];
        if (typeof inner === 'string') parts.push(inner);
      }
    }
  }
  return parts.join('\n');
}

function isError(entry: LogEntry, text: string): boolean {
  const severity = entry.severity;
  if (typeof severity === 'number') return severity >= 500;
  if (typeof severity === 'string' && severity !== 'DEFAULT') return ERROR_SEVERITIES.has(severity);
  return KLOG_ERROR.test(text);
}

function timeOf(entry: LogEntry): string | undefined {
  return rfc3339(entry.timestamp) ?? rfc3339(entry.receiveTimestamp);
}

/**
 * A decoded LogEntry → the Symptom it shows, or `ignored` with the reason. Cheap on noise: entries
 * of another resource type or without a signature's needle cost a few property reads and
 * `String.includes` calls. Never throws on data.
 */
export function classifySymptom(entry: LogEntry): SymptomResult {
  const resource = entry.resource;
  if (resource?.type !== CONTAINER) {
    return {
      type: 'ignored',
      reason: `not a ${CONTAINER} entry (resource type ${resource?.type ?? 'none'})`,
    };
  }
  const text = textOf(entry);
  if (text === '') return { type: 'ignored', reason: 'no text payload' };
  const labels = resource.labels ?? {};
  const fromMetadataServer =
    labels.namespace_name === METADATA_SERVER_POD.namespace &&
    labels.container_name === METADATA_SERVER_POD.container;
  const match = matchSymptom(text);
  // The metadata server's pods: every error of theirs, and a refusal they quote at any severity.
  if (fromMetadataServer) {
    if (match === undefined && !isError(entry, text)) {
      return { type: 'ignored', reason: 'gke-metadata-server line below ERROR' };
    }
  } else if (match === undefined) {
    return { type: 'ignored', reason: 'no credential-failure signature' };
  }
  const origin: { library: Library; signature: string } =
    fromMetadataServer || match === undefined
      ? { library: 'gke-metadata-server', signature: METADATA_SERVER_SIGNATURE }
      : { library: match.signature.library, signature: match.signature.id };
  const missing = REQUIRED_LABELS.filter((label) => !labels[label]);
  if (missing.length > 0) {
    return { type: 'ignored', reason: `${CONTAINER} entry without resource labels ${missing.join(', ')}` };
  }
  const time = timeOf(entry);
  if (time === undefined) return { type: 'ignored', reason: 'entry without a valid timestamp' };
  const node = entry.labels?.['compute.googleapis.com/resource_name'];
  return {
    type: 'symptom',
    symptom: {
      kind: match?.kind ?? 'metadata-server-error',
      ...origin,
      project: labels.project_id as string,
      cluster: { location: labels.location as string, name: labels.cluster_name as string },
      namespace: labels.namespace_name as string,
      pod: labels.pod_name as string,
      container: labels.container_name as string,
      ...(node ? { node } : {}),
      message: sample(text, match?.signature.pattern),
      time,
      ...(entry.insertId ? { insertId: entry.insertId } : {}),
    },
  };
}
