/**
 * The audit-log methods that can change a Workload Identity link, in one table: the classifier
 * routes entries by it and the Log Router sink filter (`sink-filter.ts`) is generated from it, so
 * what the sink delivers and what the classifier handles cannot drift apart.
 *
 * Method names are matched without regard to case, as the Logging query language's `=` matches them
 * (IAM writes `SetIAMPolicy`, other producers and older entries `SetIamPolicy`).
 */
export type MethodRoute =
  | 'gsa-policy'
  | 'gsa-lifecycle'
  | 'nodepool'
  | 'cluster'
  | 'k8s-serviceaccount'
  | 'k8s-networkpolicy'
  | 'project-policy';

export interface WatchedMethod {
  method: string;
  route: MethodRoute;
  /** What the method does, lower case (`create`, `update`, `patch`, `disable`, `setiampolicy`, …). */
  verb: string;
  /** Only this service's entries count, where the method name alone is ambiguous (`SetIamPolicy`). */
  serviceName?: string;
}

export const GSA_LIFECYCLE_VERBS = ['create', 'delete', 'disable', 'enable', 'undelete'] as const;
/** GKE logs `v1` and `v1beta1` methods (with `v1alpha1` request types in some); all three are watched. */
export const GKE_API_VERSIONS = ['v1', 'v1beta1', 'v1alpha1'] as const;
/** `ClusterManagerInternal` is what GKE itself calls for auto-upgrades and auto-repairs. */
export const GKE_MANAGERS = ['ClusterManager', 'ClusterManagerInternal'] as const;
export const GKE_VERBS = ['create', 'update', 'delete'] as const;
/** Writes only: reads (`get`, `list`, `watch`) and subresources (`serviceaccounts.token`) change nothing. */
export const K8S_WRITE_VERBS = ['create', 'update', 'patch', 'delete'] as const;

export const RESOURCE_MANAGER = 'cloudresourcemanager.googleapis.com';

const capitalize = (verb: string) => `${verb[0]?.toUpperCase() ?? ''}${verb.slice(1)}`;

function build(): WatchedMethod[] {
  const methods: WatchedMethod[] = [
    { method: 'google.iam.admin.v1.SetIAMPolicy', route: 'gsa-policy', verb: 'setiampolicy' },
  ];
  for (const verb of GSA_LIFECYCLE_VERBS) {
    methods.push({
      method: `google.iam.admin.v1.${capitalize(verb)}ServiceAccount`,
      route: 'gsa-lifecycle',
      verb,
    });
  }
  for (const [route, object] of [
    ['nodepool', 'NodePool'],
    ['cluster', 'Cluster'],
  ] as const) {
    for (const version of GKE_API_VERSIONS) {
      for (const manager of GKE_MANAGERS) {
        for (const verb of GKE_VERBS) {
          methods.push({
            method: `google.container.${version}.${manager}.${capitalize(verb)}${object}`,
            route,
            verb,
          });
        }
      }
    }
  }
  for (const [route, resource] of [
    ['k8s-serviceaccount', 'io.k8s.core.v1.serviceaccounts'],
    ['k8s-networkpolicy', 'io.k8s.networking.v1.networkpolicies'],
  ] as const) {
    for (const verb of K8S_WRITE_VERBS) methods.push({ method: `${resource}.${verb}`, route, verb });
  }
  methods.push({
    method: 'SetIamPolicy',
    route: 'project-policy',
    verb: 'setiampolicy',
    serviceName: RESOURCE_MANAGER,
  });
  return methods;
}

export const WATCHED_METHODS: readonly WatchedMethod[] = build();

const BY_NAME = new Map(WATCHED_METHODS.map((watched) => [watched.method.toLowerCase(), watched]));

/** The watched method of this name, whatever its case; undefined for every other method. */
export function watchedMethod(method: string): WatchedMethod | undefined {
  return BY_NAME.get(method.toLowerCase());
}
