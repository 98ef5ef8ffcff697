import type { ClusterRef } from '../../../../shared/domain/finding.ts';
import type {
  BindingDelta,
  ClusterChange,
  GsaLifecycleChange,
  GsaPolicyChange,
  KsaChange,
  NetworkPolicyChange,
  NodePoolChange,
  ProjectPolicyChange,
} from '../../../../shared/events/change-event.ts';
import {
  type NetworkPolicy,
  networkPolicySchema,
} from '../../../../shared/inventory/network-policy-schema.ts';
import { type IamPolicy, WI_ANNOTATION, WI_USER_ROLE } from '../../../../shared/inventory/snapshot.ts';
import { ORBIT } from '../../../support/snapshots.ts';
import { source } from './case.ts';

/** Typed ChangeEvents in the orbit-prod fixture's terms, as the classifier would produce them. */

const PROJECT = ORBIT.project;

export const remove = (member: string, role: string = WI_USER_ROLE): BindingDelta => ({
  action: 'REMOVE',
  role,
  member,
});
export const add = (member: string, role: string = WI_USER_ROLE): BindingDelta => ({
  action: 'ADD',
  role,
  member,
});

/** A GSA policy that binds the given members to roles/iam.workloadIdentityUser. */
export const wiPolicy = (...members: string[]): IamPolicy => ({
  bindings: members.length > 0 ? [{ role: WI_USER_ROLE, members }] : [],
});

export function gsaPolicy(
  gsa: string,
  deltas: BindingDelta[],
  extra: Partial<Omit<GsaPolicyChange, 'type'>> = {},
): GsaPolicyChange {
  return {
    type: 'gsa-policy',
    source: source('google.iam.admin.v1.SetIAMPolicy'),
    project: PROJECT,
    gsa,
    deltas,
    ...extra,
  };
}

export function projectPolicy(deltas: BindingDelta[], resource = `projects/${PROJECT}`): ProjectPolicyChange {
  return {
    type: 'project-policy',
    source: source('SetIamPolicy'),
    project: resource.startsWith('projects/') ? resource.slice('projects/'.length) : PROJECT,
    resource,
    deltas,
  };
}

const LIFECYCLE_METHOD = {
  create: 'CreateServiceAccount',
  delete: 'DeleteServiceAccount',
  disable: 'DisableServiceAccount',
  enable: 'EnableServiceAccount',
  undelete: 'UndeleteServiceAccount',
} as const;

export function gsaLifecycle(
  action: GsaLifecycleChange['action'],
  ids: { gsa?: string; gsaUniqueId?: string },
): GsaLifecycleChange {
  return {
    type: 'gsa-lifecycle',
    source: source(`google.iam.admin.v1.${LIFECYCLE_METHOD[action]}`),
    project: PROJECT,
    action,
    ...ids,
  };
}

const GKE_METHOD = { create: 'Create', update: 'Update', delete: 'Delete' } as const;

export function nodePool(
  action: NodePoolChange['action'],
  name: string,
  extra: Partial<Omit<NodePoolChange, 'type' | 'action' | 'nodePool'>> = {},
): NodePoolChange {
  return {
    type: 'nodepool',
    source: source(`google.container.v1.ClusterManager.${GKE_METHOD[action]}NodePool`),
    project: PROJECT,
    action,
    cluster: ORBIT.core,
    nodePool: name,
    ...extra,
  };
}

/** The request puts the pool on GCE_METADATA (false) or GKE_METADATA (true). */
export const metadata = (server: boolean) =>
  server
    ? { metadataServer: true, metadataMode: 'GKE_METADATA' }
    : { metadataServer: false, metadataMode: 'GCE_METADATA' };

export function cluster(
  action: ClusterChange['action'],
  ref: ClusterRef,
  extra: Partial<Omit<ClusterChange, 'type' | 'action' | 'cluster'>> = {},
): ClusterChange {
  return {
    type: 'cluster',
    source: source(`google.container.v1.ClusterManager.${GKE_METHOD[action]}Cluster`),
    project: PROJECT,
    action,
    cluster: ref,
    ...extra,
  };
}

export function ksa(
  action: KsaChange['action'],
  namespace: string,
  name: string,
  extra: Partial<Omit<KsaChange, 'type' | 'action' | 'namespace' | 'name'>> = {},
): KsaChange {
  return {
    type: 'k8s-serviceaccount',
    source: source(`io.k8s.core.v1.serviceaccounts.${action}`),
    project: PROJECT,
    action,
    cluster: ORBIT.core,
    namespace,
    name,
    ...extra,
  };
}

/** A patch of the GSA annotation: set it (a string) or remove it (null), with the object after it. */
export function annotationPatch(
  namespace: string,
  name: string,
  gsa: string | null,
  ref: ClusterRef = ORBIT.core,
): KsaChange {
  return ksa('patch', namespace, name, {
    cluster: ref,
    requestedGsa: gsa,
    annotations: gsa === null ? {} : { [WI_ANNOTATION]: gsa },
  });
}

export function networkPolicy(
  action: NetworkPolicyChange['action'],
  namespace: string,
  name: string,
  spec?: NetworkPolicy['spec'],
  ref: ClusterRef = ORBIT.core,
): NetworkPolicyChange {
  return {
    type: 'k8s-networkpolicy',
    source: source(`io.k8s.networking.v1.networkpolicies.${action}`),
    project: PROJECT,
    action,
    cluster: ref,
    namespace,
    name,
    ...(spec ? { policy: policyObject(namespace, name, spec) } : {}),
  };
}

export function policyObject(namespace: string, name: string, spec: NetworkPolicy['spec']): NetworkPolicy {
  return networkPolicySchema.parse({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name, namespace },
    spec,
  });
}

export const DENY_EGRESS: NetworkPolicy['spec'] = { podSelector: {}, policyTypes: ['Egress'] };
export const ALLOW_METADATA: NetworkPolicy['spec'] = {
  podSelector: {},
  policyTypes: ['Egress'],
  egress: [
    {
      to: [{ ipBlock: { cidr: '169.254.169.254/32' } }],
      ports: [
        { protocol: 'TCP', port: 80 },
        { protocol: 'TCP', port: 988 },
      ],
    },
  ],
};
