import type { ClusterRef } from '../domain/finding.ts';
import type { NetworkPolicy } from '../inventory/network-policy-schema.ts';
import type { IamPolicy } from '../inventory/snapshot.ts';

/** What an audit entry says happened: the typed input of every detector. */

export interface EventSource {
  method: string;
  insertId?: string;
  time?: string;
  /** Who made the change; absent when the log withholds it (some service agents, failed auth). */
  actor?: string;
  /** Who delegated to the actor (impersonation, federation), the original principal first. */
  delegation?: string[];
  callerIp?: string;
  userAgent?: string;
  /** GKE long-running operations log a `first` entry (request, actor) and a `last` one (outcome). */
  operation?: { id: string; first: boolean; last: boolean };
  /** What was left out of the entry and why (a timestamp that is not an RFC 3339 time). */
  note?: string;
}

export interface BindingDelta {
  action: 'ADD' | 'REMOVE';
  role: string;
  member: string;
}

interface Base {
  source: EventSource;
  project: string;
}

/** Whether a node pool serves the GKE metadata server: true, false, or not said. */
export type MetadataServer = boolean | undefined;

export interface GsaPolicyChange extends Base {
  type: 'gsa-policy';
  gsa: string;
  gsaUniqueId?: string;
  deltas: BindingDelta[];
  /** The policy after the change, when the entry records it. */
  policy?: IamPolicy;
}

export interface ProjectPolicyChange extends Base {
  type: 'project-policy';
  /** `projects/P`, `folders/N` or `organizations/N`. */
  resource: string;
  deltas: BindingDelta[];
}

export interface GsaLifecycleChange extends Base {
  type: 'gsa-lifecycle';
  action: 'create' | 'delete' | 'disable' | 'enable' | 'undelete';
  gsa?: string;
  gsaUniqueId?: string;
}

export interface NodePoolChange extends Base {
  type: 'nodepool';
  action: 'create' | 'update' | 'delete';
  cluster: ClusterRef;
  nodePool: string;
  /** What the request sets, read from `first` entries; `last` entries carry no request. */
  metadataServer?: MetadataServer;
  /** The mode as the request spelled it (GCE_METADATA, EXPOSE, ...). */
  metadataMode?: string;
}

export interface ClusterChange extends Base {
  type: 'cluster';
  action: 'create' | 'update' | 'delete';
  cluster: ClusterRef;
  /** A string: joined to that pool; null: WI turned off; absent: not touched by the request. */
  workloadPool?: string | null;
  /** For create: the pools the request defines, with their metadata setting. */
  nodePools?: { name: string; metadataServer?: MetadataServer; metadataMode?: string }[];
}

export interface KsaChange extends Base {
  type: 'k8s-serviceaccount';
  action: 'create' | 'update' | 'patch' | 'delete';
  cluster: ClusterRef;
  namespace: string;
  name: string;
  /** The object's annotations after the change (from the response); absent when not recorded. */
  annotations?: Record<string, string>;
  /** For a patch: the GSA annotation the request sets (string) or removes (null). */
  requestedGsa?: string | null;
}

export interface NetworkPolicyChange extends Base {
  type: 'k8s-networkpolicy';
  action: 'create' | 'update' | 'patch' | 'delete';
  cluster: ClusterRef;
  namespace: string;
  name: string;
  /** The policy after the change; absent for a delete. */
  policy?: NetworkPolicy;
}

export type ChangeEvent =
  | GsaPolicyChange
  | ProjectPolicyChange
  | GsaLifecycleChange
  | NodePoolChange
  | ClusterChange
  | KsaChange
  | NetworkPolicyChange;

export interface Ignored {
  type: 'ignored';
  reason: string;
  source?: EventSource;
}

export type Classified = ChangeEvent | Ignored;
