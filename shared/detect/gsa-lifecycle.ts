import type { GsaFacts } from '../chain/facts.ts';
import { gsaState, servesKsas } from '../chain/judge.ts';
import { addBinding, enableGsa, recreateGsa, undeleteGsa } from '../chain/remediation.ts';
import { gsaInfoOf } from '../chain/snapshot-facts.ts';
import type { Finding, FindingKind, Remediation } from '../domain/finding.ts';
import type { GsaLifecycleChange, GsaPolicyChange } from '../events/change-event.ts';
import { findGsa, impactOfGsa, isWorkloadIdentityGsa } from '../inventory/impact.ts';
import { classicMember, projectOfEmail } from '../inventory/members.ts';
import { type Snapshot, WI_USER_ROLE } from '../inventory/snapshot.ts';
import { by, describeImpact, makeFinding, outageSeverity } from './build.ts';
import type { Detector } from './detector.ts';
import { annotatedUsers, FOUND_BY_SWEEP, ownerOf } from './scan-support.ts';

/**
 * A GSA that KSAs act as is deleted or disabled. The GSA is gone from live state, so the KSAs come
 * from the last-known inventory (the Snapshot), found by email or by unique id.
 */
interface LifecycleKind {
  kind: Extract<FindingKind, 'gsa-missing' | 'gsa-disabled'>;
  title: string;
  breaks: GsaLifecycleChange['action'];
  repairs: GsaLifecycleChange['action'][];
  what: string;
  /** For the sweep: the state of link 4 (chain/judge.ts gsaState) this kind tells of. */
  state: 'missing' | 'disabled';
  /** How the GSA is broken, as a phrase. */
  brokenState: (info: GsaFacts | undefined) => string;
  remediation: (
    project: string,
    gsa: string,
    uniqueId: string | undefined,
    snapshot?: Snapshot,
  ) => Remediation[];
}

function lifecycleDetector(spec: LifecycleKind): Detector {
  return {
    kind: spec.kind,
    severity: 'critical',
    title: spec.title,
    detect(event, snapshot) {
      if (event.type !== 'gsa-lifecycle') return [];
      const breaking = event.action === spec.breaks;
      if (!breaking && !spec.repairs.includes(event.action)) return [];
      const gsa = event.gsa ?? findGsa(snapshot, undefined, event.gsaUniqueId)?.email;
      if (gsa === undefined) return [];
      const base = {
        kind: spec.kind,
        key: [event.project, gsa],
        project: event.project,
        gsa,
        source: event.source,
      };
      if (!breaking) {
        return [
          makeFinding({
            ...base,
            status: 'resolved',
            severity: 'critical',
            summary: `${gsa} was ${event.action}d${by(event.source)}`,
          }),
        ];
      }
      // Deleting or disabling a GSA no KSA acts as (as far as the inventory knows) breaks no workload.
      if (snapshot !== undefined && !isWorkloadIdentityGsa(snapshot, gsa)) return [];
      const impact = snapshot ? impactOfGsa(snapshot, gsa) : undefined;
      const uniqueId = event.gsaUniqueId ?? findGsa(snapshot, gsa)?.uniqueId;
      const finding: Finding = makeFinding({
        ...base,
        status: 'firing',
        severity: outageSeverity(impact),
        ksas: impact?.ksas ?? [],
        ...(impact ? { workloads: impact.workloads } : {}),
        summary: `${gsa} was ${spec.what}${by(event.source)}: the KSAs annotated with it get no token${describeImpact(impact)}`,
        remediation: spec.remediation(event.project, gsa, uniqueId, snapshot),
      });
      return [finding];
    },
    /**
     * Every GSA in the broken state of this kind that KSAs act as: one annotated KSAs of WI clusters
     * name (absent from its inventoried project counts as deleted), or one the inventory holds whose
     * policy binds workloads, as `detect` judges it.
     */
    scan(snapshot) {
      const findings: Finding[] = [];
      const held = snapshot.projects
        .flatMap((p) => p.serviceAccounts)
        .filter(
          (gsa) =>
            gsaState(gsaInfoOf(snapshot, gsa.email)) === spec.state &&
            isWorkloadIdentityGsa(snapshot, gsa.email),
        )
        .map((gsa) => gsa.email);
      for (const email of new Set([...annotatedUsers(snapshot).keys(), ...held])) {
        const gsa = findGsa(snapshot, email);
        // A GSA of a project outside the inventory (or of no known project) may well exist: it is
        // unknown, no verdict; so is one the export could not read.
        const info = gsaInfoOf(snapshot, email);
        if (gsaState(info) !== spec.state || !info.ok) continue;
        const owner = projectOfEmail(email) ?? ownerOf(snapshot, email)?.projectId ?? '';
        const state = spec.brokenState(info.value);
        const impact = impactOfGsa(snapshot, email);
        findings.push(
          makeFinding({
            kind: spec.kind,
            status: 'firing',
            severity: outageSeverity(impact),
            key: [owner, email],
            project: owner,
            gsa: email,
            ksas: impact.ksas,
            workloads: impact.workloads,
            summary: `${email} ${state} (${FOUND_BY_SWEEP}): the KSAs annotated with it get no token${describeImpact(impact)}`,
            remediation: spec.remediation(owner, email, gsa?.uniqueId, snapshot),
          }),
        );
      }
      return findings;
    },
  };
}

const deletion = lifecycleDetector({
  kind: 'gsa-missing',
  title: 'A Workload Identity GSA was deleted',
  breaks: 'delete',
  repairs: ['undelete'],
  what: 'deleted',
  state: 'missing',
  brokenState: (gsa) => (gsa?.deleted ? 'is deleted' : 'does not exist'),
  remediation(project, gsa, uniqueId, snapshot) {
    // Without the unique id it cannot be undeleted: recreate it (then grant its bindings again).
    const steps = [uniqueId ? undeleteGsa(project, uniqueId) : recreateGsa(project, gsa)];
    // A GSA recreated under the same email is a new principal: its bindings must be granted again.
    const impact = snapshot ? impactOfGsa(snapshot, gsa) : undefined;
    for (const ksa of impact?.ksas ?? []) {
      if (!uniqueId) steps.push(addBinding(gsa, classicMember(ksa.workloadPool, ksa.namespace, ksa.name)));
    }
    return steps;
  },
});

/**
 * gsa-missing is repaired only by what gives the KSAs their tokens back: an undelete (the same
 * unique id, the same principal), or their bindings on the GSA again. A GSA created anew under the
 * same email is another principal with an empty policy: the incident stays open and moves on to
 * what is still broken (those bindings), in the same thread. Verification checks both against live
 * state (shared/live/verify.ts).
 */
export const gsaMissing: Detector = {
  ...deletion,
  detect(event, snapshot) {
    if (event.type === 'gsa-lifecycle' && event.action === 'create') return recreated(event, snapshot);
    if (event.type === 'gsa-policy') return boundAgain(event, snapshot);
    return deletion.detect(event, snapshot);
  },
};

/** A GSA created under the email KSAs are annotated with: they stay without a token until bound. */
function recreated(event: GsaLifecycleChange, snapshot: Snapshot | undefined): Finding[] {
  const gsa = event.gsa;
  if (gsa === undefined || snapshot === undefined) return [];
  const impact = impactOfGsa(snapshot, gsa);
  if (impact.ksas.length === 0) return [];
  const id = event.gsaUniqueId ? ` (unique id ${event.gsaUniqueId})` : '';
  return [
    makeFinding({
      kind: 'gsa-missing',
      key: [event.project, gsa],
      project: event.project,
      gsa,
      source: event.source,
      status: 'firing',
      severity: outageSeverity(impact),
      ksas: impact.ksas,
      workloads: impact.workloads,
      summary: `${gsa} was re-created${by(event.source)}${id} without its bindings: a new principal, so the KSAs annotated with it still get no token${describeImpact(impact)}`,
      remediation: impact.ksas.map((ksa) =>
        addBinding(gsa, classicMember(ksa.workloadPool, ksa.namespace, ksa.name)),
      ),
    }),
  ];
}

/**
 * Workload Identity bindings granted on a GSA whose annotated KSAs the inventory shows without a
 * token through it: the GSA is deleted or absent there, another principal now holds its email (the
 * unique id differs), or its policy does not bind them all. That may repair a gsa-missing incident:
 * resolved only when live state shows every one of those KSAs bound (verify.ts).
 */
function boundAgain(event: GsaPolicyChange, snapshot: Snapshot | undefined): Finding[] {
  if (snapshot === undefined) return [];
  const grants =
    event.deltas.length === 0
      ? event.policy !== undefined
      : event.deltas.some((d) => d.action === 'ADD' && d.role === WI_USER_ROLE);
  if (!grants) return [];
  const impact = impactOfGsa(snapshot, event.gsa);
  if (impact.ksas.length === 0) return [];
  const known = findGsa(snapshot, event.gsa);
  const unserved =
    !servesKsas(known, impact.ksas) ||
    (event.gsaUniqueId !== undefined &&
      known?.uniqueId !== undefined &&
      event.gsaUniqueId !== known.uniqueId);
  if (!unserved) return [];
  return [
    makeFinding({
      kind: 'gsa-missing',
      key: [event.project, event.gsa],
      project: event.project,
      gsa: event.gsa,
      source: event.source,
      status: 'resolved',
      severity: 'critical',
      ksas: impact.ksas,
      summary: `the KSAs annotated with ${event.gsa} may act as it again${by(event.source)}`,
    }),
  ];
}

export const gsaDisabled = lifecycleDetector({
  kind: 'gsa-disabled',
  title: 'A Workload Identity GSA was disabled',
  breaks: 'disable',
  repairs: ['enable'],
  what: 'disabled',
  state: 'disabled',
  brokenState: () => 'is disabled',
  remediation: (_project, gsa) => [enableGsa(gsa)],
});
