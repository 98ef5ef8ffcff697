import type { Finding } from '../../../shared/domain/finding.ts';
import type { Incident } from '../../../shared/domain/incident.ts';

/** A routing key that is easy to spot if it ever leaks (32 characters, as PagerDuty wants). */
export const ROUTING_KEY = 'pdsecret'.repeat(4);

export function bindingMissing(overrides: Partial<Finding> = {}): Finding {
  return {
    kind: 'binding-missing',
    status: 'firing',
    severity: 'critical',
    fingerprint:
      'binding-missing/orbit-prod/cart@orbit-prod.iam.gserviceaccount.com/orbit-prod.svc.id.goog/checkout/cart',
    project: 'orbit-prod',
    cluster: { location: 'europe-west4', name: 'core-1' },
    nodePool: 'general',
    gsa: 'cart@orbit-prod.iam.gserviceaccount.com',
    ksas: [{ workloadPool: 'orbit-prod.svc.id.goog', namespace: 'checkout', name: 'cart' }],
    workloads: [
      {
        cluster: 'core-1',
        namespace: 'checkout',
        kind: 'Deployment',
        name: 'cart',
        nodePool: 'general',
        pods: 3,
      },
    ],
    cause: {
      method: 'google.iam.admin.v1.SetIAMPolicy',
      actor: 'erin@example.org',
      time: '2026-11-20T09:00:00Z',
      insertId: 'e-1',
    },
    summary: 'checkout/cart can no longer act as cart@orbit-prod.iam.gserviceaccount.com',
    remediation: [
      {
        title: 'Restore the Workload Identity binding',
        command:
          'gcloud iam service-accounts add-iam-policy-binding cart@orbit-prod.iam.gserviceaccount.com --role roles/iam.workloadIdentityUser --member "serviceAccount:orbit-prod.svc.id.goog[checkout/cart]"',
      },
    ],
    ...overrides,
  };
}

/** An open incident standing for `finding`, as the lifecycle makes it. */
export function incidentOf(finding: Finding, overrides: Partial<Incident> = {}): Incident {
  return {
    id: 'inc-0001',
    fingerprint: finding.fingerprint,
    kind: finding.kind,
    status: 'open',
    severity: finding.severity,
    finding,
    openedAt: '2026-11-20T09:00:04Z',
    updatedAt: '2026-11-20T09:00:04Z',
    seq: 1,
    transitions: [{ seq: 1, type: 'opened', at: '2026-11-20T09:00:04Z', summary: finding.summary }],
    entries: [],
    notifications: {},
    ...overrides,
  };
}
