/**
 * IAM members that name GKE workloads. Three forms reach a GSA's policy:
 *   serviceAccount:POOL[NS/KSA]                                       (the classic form)
 *   principal://iam.googleapis.com/projects/N/locations/global/workloadIdentityPools/POOL/subject/ns/NS/sa/KSA
 *   principalSet://iam.googleapis.com/projects/N/locations/global/workloadIdentityPools/POOL/namespace/NS
 * POOL is a GKE workload pool only when it ends in `.svc.id.goog`; any other pool is external
 * federation (GitHub, AWS, ...), which is not a GKE workload.
 */
export interface WorkloadSubject {
  workloadPool: string;
  namespace: string;
  /** Absent for a namespace-wide principalSet. */
  name?: string;
}

const CLASSIC = /^serviceAccount:([a-z0-9.-]+\.svc\.id\.goog)\[([^/\]]+)\/([^\]]+)\]$/;
const PRINCIPAL =
  /^principal:\/\/iam\.googleapis\.com\/projects\/[^/]+\/locations\/global\/workloadIdentityPools\/([^/]+\.svc\.id\.goog)\/subject\/ns\/([^/]+)\/sa\/([^/]+)$/;
const NAMESPACE_SET =
  /^principalSet:\/\/iam\.googleapis\.com\/projects\/[^/]+\/locations\/global\/workloadIdentityPools\/([^/]+\.svc\.id\.goog)\/namespace\/([^/]+)$/;

export function parseWorkloadMember(member: string): WorkloadSubject | undefined {
  const classic = CLASSIC.exec(member) ?? PRINCIPAL.exec(member);
  if (classic) {
    const [, workloadPool = '', namespace = '', name = ''] = classic;
    return { workloadPool, namespace, name };
  }
  const set = NAMESPACE_SET.exec(member);
  if (set) {
    const [, workloadPool = '', namespace = ''] = set;
    return { workloadPool, namespace };
  }
  return undefined;
}

/**
 * The workload a member of a project's (or resource's) own policy grants roles to directly: direct
 * resource access, no GSA involved. IAM names a workload there by `principal://` or `principalSet://`
 * only, never by the `serviceAccount:POOL[ns/ksa]` form.
 */
export function directSubject(member: string): WorkloadSubject | undefined {
  return member.startsWith('principal') ? parseWorkloadMember(member) : undefined;
}

/** Whether the member grants to the KSA `namespace/name` of `workloadPool`. */
export function memberCovers(
  subject: WorkloadSubject,
  workloadPool: string,
  namespace: string,
  name: string,
): boolean {
  return (
    subject.workloadPool === workloadPool &&
    subject.namespace === namespace &&
    (subject.name === undefined || subject.name === name)
  );
}

export function classicMember(workloadPool: string, namespace: string, name: string): string {
  return `serviceAccount:${workloadPool}[${namespace}/${name}]`;
}

/** `sa@PROJECT.iam.gserviceaccount.com` → PROJECT (user-managed accounts only; others name no project). */
export function projectOfEmail(email: string): string | undefined {
  return /@([a-z0-9-]+)\.iam\.gserviceaccount\.com$/.exec(email)?.[1];
}

/** `PROJECT.svc.id.goog` → `PROJECT` (the pool is named after its project). */
export function poolProject(workloadPool: string): string {
  return workloadPool.replace(/\.svc\.id\.goog$/, '');
}
