import type { Finding } from '../../shared/domain/finding.ts';

/** A firing binding-missing finding as detect() makes it, for tests of what comes after detection. */
export function bindingFinding(overrides: Partial<Finding> = {}): Finding {
  return {
    kind: 'binding-missing',
    status: 'firing',
    severity: 'critical',
    fingerprint:
      'binding-missing/orbit-prod/cart@orbit-prod.iam.gserviceaccount.com/orbit-prod.svc.id.goog/checkout/cart',
    project: 'orbit-prod',
    gsa: 'cart@orbit-prod.iam.gserviceaccount.com',
    ksas: [{ workloadPool: 'orbit-prod.svc.id.goog', namespace: 'checkout', name: 'cart' }],
    workloads: [
      {
        cluster: 'core-1',
        namespace: 'checkout',
        kind: 'Deployment',
        name: 'cart',
        nodePool: 'general',
        pods: 1,
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
        title: 'Restore the binding',
        command:
          'gcloud iam service-accounts add-iam-policy-binding cart@orbit-prod.iam.gserviceaccount.com --role roles/iam.workloadIdentityUser --member "serviceAccount:orbit-prod.svc.id.goog[checkout/cart]"',
      },
    ],
    ...overrides,
  };
}

export function resolvedOf(finding: Finding, overrides: Partial<Finding> = {}): Finding {
  const { remediation: _, workloads: __, ...rest } = finding;
  return { ...rest, status: 'resolved', summary: 'binding restored', ...overrides };
}
