import type { GsaLifecycleChange } from '../events/change-event.ts';
import { findGsa, impactOfGsa, isWorkloadIdentityGsa } from '../inventory/impact.ts';
import { classicMember } from '../inventory/members.ts';
import type { Snapshot } from '../inventory/snapshot.ts';
import { by, describeImpact, makeFinding, outageSeverity } from './build.ts';
import type { Detector } from './detector.ts';
import type { Finding, FindingKind, Remediation } from './finding.ts';
import { addBinding, enableGsa, recreateGsa, undeleteGsa } from './remediation.ts';

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
  remediation: (event: GsaLifecycleChange, gsa: string, snapshot: Snapshot | undefined) => Remediation[];
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
      const finding: Finding = makeFinding({
        ...base,
        status: 'firing',
        severity: outageSeverity(impact),
        ksas: impact?.ksas ?? [],
        ...(impact ? { workloads: impact.workloads } : {}),
        summary: `${gsa} was ${spec.what}${by(event.source)}: the KSAs annotated with it get no token${describeImpact(impact)}`,
        remediation: spec.remediation(event, gsa, snapshot),
      });
      return [finding];
    },
  };
}

export const gsaMissing = lifecycleDetector({
  kind: 'gsa-missing',
  title: 'A Workload Identity GSA was deleted',
  breaks: 'delete',
  repairs: ['undelete', 'create'],
  what: 'deleted',
  remediation(event, gsa, snapshot) {
    const uniqueId = event.gsaUniqueId ?? findGsa(snapshot, gsa)?.uniqueId;
    // Without the unique id it cannot be undeleted: recreate it (then grant its bindings again).
    const steps = [uniqueId ? undeleteGsa(event.project, uniqueId) : recreateGsa(event.project, gsa)];
    // A GSA recreated under the same email is a new principal: its bindings must be granted again.
    const impact = snapshot ? impactOfGsa(snapshot, gsa) : undefined;
    for (const ksa of impact?.ksas ?? []) {
      if (!uniqueId) steps.push(addBinding(gsa, classicMember(ksa.workloadPool, ksa.namespace, ksa.name)));
    }
    return steps;
  },
});

export const gsaDisabled = lifecycleDetector({
  kind: 'gsa-disabled',
  title: 'A Workload Identity GSA was disabled',
  breaks: 'disable',
  repairs: ['enable'],
  what: 'disabled',
  remediation: (_, gsa) => [enableGsa(gsa)],
});
