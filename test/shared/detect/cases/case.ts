import assert from 'node:assert/strict';
import type { Detector } from '../../../../shared/detect/detector.ts';
import { DETECTORS } from '../../../../shared/detect/index.ts';
import type {
  ClusterRef,
  Finding,
  FindingKind,
  FindingSeverity,
  FindingStatus,
  PolicyRewrite,
  WorkloadRef,
} from '../../../../shared/domain/finding.ts';
import type { ChangeEvent, EventSource } from '../../../../shared/events/change-event.ts';
import type { Snapshot } from '../../../../shared/inventory/snapshot.ts';

/**
 * One row of a detector's table: a typed change (or, with no event, a `scan` of the snapshot) and
 * every finding the detector of `kind` must return for it, in order. `want: []` is a negative case.
 */
export interface DetectorCase {
  name: string;
  kind: FindingKind;
  event?: ChangeEvent;
  snapshot?: Snapshot;
  want: Expected[];
}

export interface Expected {
  status: FindingStatus;
  severity: FindingSeverity;
  fingerprint: string;
  cluster?: ClusterRef;
  nodePool?: string;
  gsa?: string;
  /** `namespace/name` of each KSA, compared as a set. */
  ksas: string[];
  /** `cluster namespace Kind/name @pool ×pods`, as a set; undefined: the finding carries no workloads. */
  workloads?: string[] | undefined;
  summary: RegExp;
  /** Each must match some remediation command (firing findings only). */
  commands?: RegExp[] | undefined;
  /** The request rewrote more than one member (cause.replaced). */
  replaced?: PolicyRewrite;
}

/** Remediation commands must carry real names, never the guide's placeholders. */
export const PLACEHOLDER = /PROJECT_ID|GSA_EMAIL|CLUSTER\b|POOL\b|<[A-Z_]+>|\bNS\/KSA\b/;

export const ACTOR = 'alice@example.com';

let serial = 0;
/** An event source as the classifier writes it: every field the cause copies is set. */
export function source(method: string): EventSource {
  serial += 1;
  return {
    method,
    actor: ACTOR,
    time: '2026-11-28T10:00:00Z',
    insertId: `insert-${serial}`,
    callerIp: '203.0.113.7',
  };
}

export function detectorOf(kind: FindingKind): Detector {
  const detector = DETECTORS.find((d) => d.kind === kind);
  assert.ok(detector, `a detector of ${kind}`);
  return detector;
}

/** What the case's detector returns: `detect` for an event, `scan` without one. */
export function findingsOf(c: DetectorCase): Finding[] {
  const detector = detectorOf(c.kind);
  if (c.event) return detector.detect(c.event, c.snapshot);
  assert.ok(detector.scan && c.snapshot, `${c.kind} scans a snapshot`);
  return detector.scan(c.snapshot);
}

export const ksaSet = (finding: Finding) => finding.ksas.map((k) => `${k.namespace}/${k.name}`).sort();

export const workloadSet = (workloads: readonly WorkloadRef[] | undefined) =>
  workloads
    ?.map((w) => `${w.cluster} ${w.namespace} ${w.kind}/${w.name} @${w.nodePool ?? '-'} ×${w.pods}`)
    .sort();

/** Contract checks every finding owes, whatever the case. */
export function checkContract(finding: Finding): void {
  const label = `${finding.fingerprint} (${finding.status})`;
  assert.ok(finding.fingerprint.startsWith(`${finding.kind}/`), `${label}: fingerprint starts with the kind`);
  assert.ok(Array.isArray(finding.ksas), `${label}: ksas is always present`);
  assert.ok(finding.summary.length > 0, `${label}: a summary`);
  assert.doesNotMatch(
    JSON.stringify(finding),
    /undefined|NaN|\[object Object\]/,
    `${label}: no unfilled value`,
  );
  if (finding.status === 'resolved') {
    assert.equal(finding.remediation, undefined, `${label}: a resolved finding carries no remediation`);
    return;
  }
  assert.ok(
    finding.remediation && finding.remediation.length > 0,
    `${label}: a firing finding says how to repair`,
  );
  for (const step of finding.remediation) {
    assert.ok(step.title.length > 0, `${label}: every step has a title`);
    assert.doesNotMatch(step.command, PLACEHOLDER, `${label}: no placeholder in ${step.command}`);
    assert.doesNotMatch(step.command, /undefined/, `${label}: no undefined in ${step.command}`);
  }
}

/** Runs the case and checks every returned finding against its expectation, field by field. */
export function checkCase(c: DetectorCase): Finding[] {
  const findings = findingsOf(c);
  assert.deepEqual(
    findings.map((f) => `${f.status} ${f.fingerprint}`),
    c.want.map((w) => `${w.status} ${w.fingerprint}`),
    'the findings, in order',
  );
  findings.forEach((finding, index) => {
    const want = c.want[index] as Expected;
    const label = want.fingerprint;
    checkContract(finding);
    assert.equal(finding.kind, c.kind, `${label}: kind`);
    assert.equal(finding.severity, want.severity, `${label}: severity`);
    assert.equal(
      finding.project,
      finding.fingerprint.split('/')[1],
      `${label}: project is the fingerprint's`,
    );
    assert.deepEqual(finding.cluster, want.cluster, `${label}: cluster`);
    assert.equal(finding.nodePool, want.nodePool, `${label}: nodePool`);
    assert.equal(finding.gsa, want.gsa, `${label}: gsa`);
    assert.deepEqual(ksaSet(finding), [...want.ksas].sort(), `${label}: ksas`);
    assert.deepEqual(
      workloadSet(finding.workloads),
      want.workloads && [...want.workloads].sort(),
      `${label}: workloads`,
    );
    assert.match(finding.summary, want.summary, `${label}: summary`);
    if (c.event) {
      const { method, actor, time, insertId, callerIp } = c.event.source;
      const replaced = want.replaced ? { replaced: want.replaced } : {};
      assert.deepEqual(
        finding.cause,
        { method, actor, time, insertId, callerIp, ...replaced },
        `${label}: cause`,
      );
    } else {
      assert.equal(finding.cause, undefined, `${label}: a scan has no cause`);
    }
    const commands = finding.remediation?.map((step) => step.command) ?? [];
    for (const pattern of want.commands ?? []) {
      assert.ok(
        commands.some((command) => pattern.test(command)),
        `${label}: a command matches ${pattern}\n${commands.join('\n')}`,
      );
    }
  });
  return findings;
}
