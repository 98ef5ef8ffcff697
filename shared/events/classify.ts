import { z } from 'zod';
import type { ClusterRef } from '../domain/finding.ts';
import { projectOfEmail } from '../inventory/members.ts';
import { networkPolicySchema } from '../inventory/network-policy-schema.ts';
import { iamPolicySchema, WI_ANNOTATION } from '../inventory/snapshot.ts';
import type {
  BindingDelta,
  ChangeEvent,
  Classified,
  ClusterChange,
  EventSource,
  GsaLifecycleChange,
  Ignored,
  KsaChange,
  MetadataServer,
  NetworkPolicyChange,
  NodePoolChange,
} from './change-event.ts';
import { type MethodRoute, type WatchedMethod, watchedMethod } from './methods.ts';
import {
  type AuditLog,
  auditDataSchema,
  bindingDeltaSchema,
  camel,
  delegationSchema,
  isRecord,
  type LogEntry,
} from './schemas.ts';
import { notATime, rfc3339 } from './time.ts';

/**
 * Turns a decoded LogEntry into the ChangeEvent it records, or `ignored` with the reason. Reads
 * `resource.labels` before `resourceName`, which GKE and IAM write in non-canonical forms
 * (`projects/-/serviceAccounts/ID`, `zones/` for regional clusters). Never throws on data.
 */
export function classify(entry: LogEntry): Classified {
  const payload = entry.protoPayload;
  if (payload === undefined) return { type: 'ignored', reason: 'not an audit log entry (no protoPayload)' };
  const method = payload.methodName;
  if (method === undefined || method === '')
    return { type: 'ignored', reason: 'audit entry without a methodName' };
  const source = sourceOf(entry, payload, method);
  const ignore = (reason: string): Ignored => ({ type: 'ignored', reason, source });

  if (entry.logName?.includes('data_access')) return ignore(DATA_ACCESS);
  const code = payload.status?.code ?? 0;
  if (code !== 0) {
    return ignore(
      `the request failed (code ${code}${payload.status?.message ? `: ${payload.status.message}` : ''})`,
    );
  }
  const watched = watchedOrWhyNot(method, payload.serviceName);
  if (typeof watched === 'string') return ignore(watched);
  return CLASSIFIERS[watched.route](watched.verb, { entry, payload, source, ignore });
}

const DATA_ACCESS = 'Data Access entry: reads change nothing';

/** The watched method an entry of this method and service records, or why it changes no link. */
function watchedOrWhyNot(method: string, service: string | undefined): WatchedMethod | string {
  const watched = watchedMethod(method);
  if (watched === undefined) return `${method} does not change a Workload Identity link`;
  if (watched.serviceName !== undefined && service?.toLowerCase() !== watched.serviceName) {
    return `${method} on ${service ?? 'an unnamed service'} does not touch Workload Identity`;
  }
  return watched;
}

/**
 * The reason classify gives an entry that changes nothing wi-sentinel watches (Data Access, or a
 * method or service it does not watch), told from the entry's raw JSON before any schema parse: the
 * audit sink delivers mostly such entries, and each should cost little more than its JSON.parse.
 * Undefined whenever the parse and classify must decide: snake_case keys (the schema renames
 * them), a failed request, a watched method, or a field it reads of another type than the schema's.
 */
export function ignoreUnparsed(entry: Record<string, unknown>): string | undefined {
  const { insertId, logName, protoPayload: payload } = entry;
  if (hasRenamedKey(entry) || !isStringOrAbsent(insertId) || !isStringOrAbsent(logName)) return undefined;
  if (!isRecord(payload) || hasRenamedKey(payload)) return undefined;
  const { methodName: method, serviceName: service, status } = payload;
  if (typeof method !== 'string' || method === '' || !isStringOrAbsent(service)) return undefined;
  if (logName?.includes('data_access')) return DATA_ACCESS;
  if (status !== undefined && !(isRecord(status) && !hasRenamedKey(status) && (status.code ?? 0) === 0))
    return undefined;
  const watched = watchedOrWhyNot(method, service);
  // The reason names the method and service as they came: made well formed, as the parse would.
  return typeof watched === 'string' ? watched.toWellFormed() : undefined;
}

function isStringOrAbsent(value: unknown): value is string | undefined {
  return value === undefined || typeof value === 'string';
}

/** Keys the schema's camel() would rename (see schemas.ts): those entries take the full parse. */
function hasRenamedKey(value: Record<string, unknown>): boolean {
  for (const key in value) if (key.includes('_') || key === 'callerIP') return true;
  return false;
}

interface Context {
  entry: LogEntry;
  payload: AuditLog;
  source: EventSource;
  ignore: (reason: string) => Ignored;
}

/** One classifier per route of the method table (methods.ts), given the method's verb. */
const CLASSIFIERS: Record<MethodRoute, (verb: string, context: Context) => Classified> = {
  'gsa-policy': (_, context) => classifyGsaPolicy(context),
  'gsa-lifecycle': (verb, context) => classifyGsaLifecycle(verb as GsaLifecycleChange['action'], context),
  nodepool: (verb, context) => classifyNodePool(verb as NodePoolChange['action'], context),
  cluster: (verb, context) => classifyCluster(verb as ClusterChange['action'], context),
  'k8s-serviceaccount': (verb, context) => classifyKsa(verb as KsaChange['action'], context),
  'k8s-networkpolicy': (verb, context) =>
    classifyNetworkPolicy(verb as NetworkPolicyChange['action'], context),
  'project-policy': (_, context) => classifyProjectPolicy(context),
};

function sourceOf(entry: LogEntry, payload: AuditLog, method: string): EventSource {
  const auth = payload.authenticationInfo;
  const actor = auth?.principalEmail || stripPrefix(auth?.principalSubject);
  const meta = payload.requestMetadata;
  const op = entry.operation;
  const delegation = delegationOf(auth?.serviceAccountDelegationInfo);
  // Only an RFC 3339 time goes on into causes and messages; anything else is left out, saying so.
  const time = rfc3339(entry.timestamp);
  return {
    method,
    ...optional('insertId', entry.insertId),
    ...optional('time', time),
    ...(entry.timestamp && time === undefined ? { note: notATime('timestamp', entry.timestamp) } : {}),
    ...optional('actor', actor),
    ...(delegation.length > 0 ? { delegation } : {}),
    ...optional('callerIp', meta?.callerIp),
    ...optional('userAgent', meta?.callerSuppliedUserAgent),
    ...(op?.id ? { operation: { id: op.id, first: op.first === true, last: op.last === true } } : {}),
  };
}

/** The delegation chain's principals, the original first; links that name nobody are skipped. */
function delegationOf(items: readonly unknown[] | undefined): string[] {
  const chain: string[] = [];
  for (const item of items ?? []) {
    const parsed = delegationSchema.safeParse(item);
    if (!parsed.success) continue;
    const who = parsed.data.firstPartyPrincipal?.principalEmail || parsed.data.principalSubject;
    if (who) chain.push(who);
  }
  return chain;
}

function stripPrefix(subject: string | undefined): string | undefined {
  return subject?.replace(/^(user|serviceAccount):/, '') || undefined;
}

function optional<K extends string, V>(key: K, value: V | undefined | null | ''): { [P in K]?: V } {
  return value === undefined || value === null || value === '' ? {} : ({ [key]: value } as { [P in K]: V });
}

function projectOf({ entry }: Context): string | undefined {
  return entry.resource?.labels?.project_id ?? /^projects\/([^/]+)\//.exec(entry.logName ?? '')?.[1];
}

// ---------------------------------------------------------------- IAM

const setIamPolicyRequestSchema = camel({
  resource: z.string().optional(),
  policy: iamPolicySchema.optional(),
});

/** BindingDelta.Action as proto enum numbers, for exporters that write enums as integers. */
const DELTA_ACTIONS = new Map<string, BindingDelta['action']>([
  ['ADD', 'ADD'],
  ['REMOVE', 'REMOVE'],
  ['1', 'ADD'],
  ['2', 'REMOVE'],
]);

function deltasOf(payload: AuditLog): BindingDelta[] {
  const data = [payload.serviceData, payload.metadata]
    .map((raw) => auditDataSchema.safeParse(raw ?? {}))
    .find((parsed) => parsed.success && parsed.data.policyDelta !== undefined);
  const raw = data?.success ? (data.data.policyDelta?.bindingDeltas ?? []) : [];
  const deltas: BindingDelta[] = [];
  for (const item of raw) {
    const delta = bindingDeltaSchema.safeParse(item);
    if (!delta.success) continue;
    const { role, member } = delta.data;
    const action = DELTA_ACTIONS.get(String(delta.data.action ?? '').toUpperCase());
    if (action && role && member) deltas.push({ action, role, member });
  }
  return deltas;
}

function classifyGsaPolicy(context: Context): Classified {
  const { entry, payload, ignore } = context;
  const labels = entry.resource?.labels ?? {};
  const request = setIamPolicyRequestSchema.safeParse(payload.request ?? {});
  const requested = request.success ? request.data : {};
  const gsa = labels.email_id ?? emailIn(requested.resource) ?? emailIn(payload.resourceName);
  const project = projectOf(context) ?? (gsa ? projectOfEmail(gsa) : undefined);
  if (gsa === undefined || project === undefined)
    return ignore('SetIamPolicy entry names no service account');
  const response = iamPolicySchema.safeParse(payload.response ?? {});
  const policy =
    response.success && payload.response?.bindings !== undefined ? response.data : requested.policy;
  return {
    type: 'gsa-policy',
    source: context.source,
    project,
    gsa,
    ...optional('gsaUniqueId', labels.unique_id),
    deltas: deltasOf(payload),
    ...(policy ? { policy } : {}),
  };
}

function classifyProjectPolicy(context: Context): Classified {
  const { entry, payload, ignore } = context;
  const labels = entry.resource?.labels ?? {};
  const resource = labels.project_id
    ? `projects/${labels.project_id}`
    : labels.organization_id
      ? `organizations/${labels.organization_id}`
      : labels.folder_id
        ? `folders/${labels.folder_id}`
        : /^((?:projects|organizations|folders)\/[^/]+)/.exec(
            payload.resourceName ?? entry.logName ?? '',
          )?.[1];
  if (resource === undefined) return ignore('SetIamPolicy entry names no project, folder or organization');
  return {
    type: 'project-policy',
    source: context.source,
    project: resource.replace(/^projects\//, ''),
    resource,
    deltas: deltasOf(payload),
  };
}

const serviceAccountBodySchema = camel({
  name: z.string().optional(),
  accountId: z.string().optional(),
  email: z.string().optional(),
  uniqueId: z.string().optional(),
  restoredAccount: camel({ email: z.string().optional(), uniqueId: z.string().optional() }).optional(),
});

function classifyGsaLifecycle(action: GsaLifecycleChange['action'], context: Context): Classified {
  const { entry, payload, ignore } = context;
  const labels = entry.resource?.labels ?? {};
  const requestParse = serviceAccountBodySchema.safeParse(payload.request ?? {});
  const responseParse = serviceAccountBodySchema.safeParse(payload.response ?? {});
  const request = requestParse.success ? requestParse.data : {};
  const response = responseParse.success ? responseParse.data : {};
  const project = projectOf(context) ?? /^projects\/([^/-][^/]*)/.exec(request.name ?? '')?.[1];
  const created =
    request.accountId && project ? `${request.accountId}@${project}.iam.gserviceaccount.com` : undefined;
  const gsa =
    labels.email_id ??
    emailIn(request.name) ??
    response.email ??
    response.restoredAccount?.email ??
    emailIn(payload.resourceName) ??
    created;
  const gsaUniqueId =
    labels.unique_id ??
    response.uniqueId ??
    response.restoredAccount?.uniqueId ??
    // Undelete needs the id: when request.name gives the email, resourceName still gives the id.
    [request.name, payload.resourceName]
      .map((name) => /serviceAccounts\/(\d+)$/.exec(name ?? '')?.[1])
      .find(Boolean);
  const resolvedProject = project ?? (gsa ? projectOfEmail(gsa) : undefined);
  if (resolvedProject === undefined || (gsa === undefined && gsaUniqueId === undefined)) {
    return ignore(`${action} of a service account the entry does not name`);
  }
  return {
    type: 'gsa-lifecycle',
    source: context.source,
    project: resolvedProject,
    action,
    ...optional('gsa', gsa),
    ...optional('gsaUniqueId', gsaUniqueId),
  };
}

function emailIn(name: string | undefined): string | undefined {
  const last = name?.split('/').pop();
  return last?.includes('@') ? last : undefined;
}

// ---------------------------------------------------------------- GKE

const workloadMetadataSchema = camel({ mode: z.string().optional(), nodeMetadata: z.string().optional() });
const nodeConfigSchema = camel({ workloadMetadataConfig: workloadMetadataSchema.optional() });
const nodePoolSchema = camel({ name: z.string().optional(), config: nodeConfigSchema.optional() });
const updateNodePoolSchema = camel({
  name: z.string().optional(),
  nodePoolId: z.string().optional(),
  workloadMetadataConfig: workloadMetadataSchema.optional(),
});
const createNodePoolSchema = camel({ parent: z.string().optional(), nodePool: nodePoolSchema.optional() });
const workloadIdentitySchema = camel({
  workloadPool: z.string().optional(),
  /** The pre-GA name of the field. */
  identityNamespace: z.string().optional(),
});
const updateClusterSchema = camel({
  update: camel({ desiredWorkloadIdentityConfig: workloadIdentitySchema.optional() }).optional(),
});
const createClusterSchema = camel({
  cluster: camel({
    name: z.string().optional(),
    workloadIdentityConfig: workloadIdentitySchema.optional(),
    nodeConfig: nodeConfigSchema.optional(),
    nodePools: z.array(nodePoolSchema).optional(),
  }).optional(),
});

/**
 * `GKE_METADATA` (and the legacy `GKE_METADATA_SERVER`) serve the GKE metadata server; `GCE_METADATA`
 * and the legacy `EXPOSE` / `SECURE` expose the node's own. Unspecified says nothing: a new pool inherits.
 */
export function metadataServerOf(mode: string | undefined): MetadataServer {
  switch (mode) {
    case 'GKE_METADATA':
    case 'GKE_METADATA_SERVER':
      return true;
    case 'GCE_METADATA':
    case 'EXPOSE':
    case 'SECURE':
      return false;
    default:
      return undefined;
  }
}

function metadataOf(config: z.infer<typeof workloadMetadataSchema> | undefined) {
  const mode = config?.mode && config.mode !== 'MODE_UNSPECIFIED' ? config.mode : config?.nodeMetadata;
  const metadataServer = metadataServerOf(mode);
  return metadataServer === undefined ? {} : { metadataServer, metadataMode: mode as string };
}

const GKE_NAME =
  /projects\/([^/]+)\/(?:zones|locations)\/([^/]+)\/clusters\/([^/]+)(?:\/nodePools\/([^/]+))?/;

function gkeNames(context: Context, ...names: (string | undefined)[]) {
  const labels = context.entry.resource?.labels ?? {};
  const parsed = names.map((name) => GKE_NAME.exec(name ?? '')).find((match) => match !== null);
  const project = labels.project_id ?? parsed?.[1] ?? projectOf(context);
  const location = labels.location ?? parsed?.[2];
  const name = labels.cluster_name ?? parsed?.[3];
  const cluster: ClusterRef | undefined = location && name ? { location, name } : undefined;
  return { project, cluster, nodePool: labels.nodepool_name ?? parsed?.[4] };
}

function classifyNodePool(action: NodePoolChange['action'], context: Context): Classified {
  const { payload, source, ignore } = context;
  const request = payload.request ?? {};
  let nodePool: string | undefined;
  let metadata = {};
  let name: string | undefined = payload.resourceName;
  if (action === 'create') {
    const parsed = createNodePoolSchema.safeParse(request);
    if (parsed.success) {
      nodePool = parsed.data.nodePool?.name;
      metadata = metadataOf(parsed.data.nodePool?.config?.workloadMetadataConfig);
      name = parsed.data.parent ?? name;
    }
  } else if (action === 'update') {
    const parsed = updateNodePoolSchema.safeParse(request);
    if (parsed.success) {
      nodePool = parsed.data.nodePoolId;
      metadata = metadataOf(parsed.data.workloadMetadataConfig);
      name = parsed.data.name ?? name;
    }
  }
  const names = gkeNames(context, payload.resourceName, name);
  const pool = names.nodePool ?? nodePool;
  if (names.project === undefined || names.cluster === undefined || pool === undefined) {
    return ignore(`node pool ${action} entry names no project, cluster and pool`);
  }
  return {
    type: 'nodepool',
    source,
    project: names.project,
    action,
    cluster: names.cluster,
    nodePool: pool,
    ...metadata,
  };
}

function classifyCluster(action: ClusterChange['action'], context: Context): Classified {
  const { payload, source, ignore } = context;
  const names = gkeNames(
    context,
    payload.resourceName,
    (payload.request?.name as string | undefined) ?? undefined,
  );
  if (names.project === undefined || names.cluster === undefined) {
    return ignore(`cluster ${action} entry names no project and cluster`);
  }
  const event: ClusterChange = {
    type: 'cluster',
    source,
    project: names.project,
    action,
    cluster: names.cluster,
  };
  if (action === 'update') {
    const parsed = updateClusterSchema.safeParse(payload.request ?? {});
    const config = parsed.success ? parsed.data.update?.desiredWorkloadIdentityConfig : undefined;
    if (config !== undefined) event.workloadPool = config.workloadPool || config.identityNamespace || null;
  } else if (action === 'create') {
    const parsed = createClusterSchema.safeParse(payload.request ?? {});
    const cluster = parsed.success ? parsed.data.cluster : undefined;
    if (cluster !== undefined) {
      const pool =
        cluster.workloadIdentityConfig?.workloadPool || cluster.workloadIdentityConfig?.identityNamespace;
      event.workloadPool = pool || null;
      const pools = cluster.nodePools?.length
        ? cluster.nodePools
        : [{ name: 'default-pool', config: cluster.nodeConfig }];
      event.nodePools = pools.map((p) => ({
        name: p.name ?? 'default-pool',
        ...metadataOf(p.config?.workloadMetadataConfig),
      }));
    }
  }
  return event;
}

// ---------------------------------------------------------------- Kubernetes

const k8sObjectSchema = z.looseObject({
  kind: z.string().optional(),
  metadata: z
    .looseObject({
      name: z.string().optional(),
      namespace: z.string().optional(),
      annotations: z.record(z.string(), z.string().nullable()).nullish(),
    })
    .optional(),
});

const K8S_NAME = /namespaces\/([^/]+)\/[a-z]+(?:\/([^/]+))?$/;

function k8sTarget(context: Context, objects: (Record<string, unknown> | undefined)[]) {
  const parsed = objects
    .map((object) => k8sObjectSchema.safeParse(object ?? {}))
    .map((result) => (result.success ? result.data : {}));
  const fromName = K8S_NAME.exec(context.payload.resourceName ?? '');
  const namespace = fromName?.[1] ?? parsed.find((o) => o.metadata?.namespace)?.metadata?.namespace;
  const name = fromName?.[2] ?? parsed.find((o) => o.metadata?.name)?.metadata?.name;
  const names = gkeNames(context);
  return { ...names, namespace, name, parsed };
}

/** The fields every Kubernetes change shares, or why the entry cannot name its object. */
function k8sChange<A extends string>(resource: string, action: A, context: Context) {
  const target = k8sTarget(context, [context.payload.response, context.payload.request]);
  if (!target.project || !target.cluster || !target.namespace || !target.name) {
    return { ignored: context.ignore(`${resource}.${action} entry names no cluster, namespace and name`) };
  }
  const { project, cluster, namespace, name } = target;
  return {
    base: { source: context.source, project, action, cluster, namespace, name },
    parsed: target.parsed,
  };
}

function classifyKsa(action: KsaChange['action'], context: Context): Classified {
  const change = k8sChange('serviceaccounts', action, context);
  if (change.ignored) return change.ignored;
  const [response, request] = change.parsed;
  const event: KsaChange = { type: 'k8s-serviceaccount', ...change.base };
  if (action !== 'delete' && response?.kind === 'ServiceAccount') {
    event.annotations = Object.fromEntries(
      Object.entries(response.metadata?.annotations ?? {}).filter(
        (e): e is [string, string] => e[1] !== null,
      ),
    );
  }
  const requested = request?.metadata?.annotations;
  if (requested && WI_ANNOTATION in requested) event.requestedGsa = requested[WI_ANNOTATION] || null;
  return event;
}

function classifyNetworkPolicy(action: NetworkPolicyChange['action'], context: Context): Classified {
  const { payload, ignore } = context;
  const change = k8sChange('networkpolicies', action, context);
  if (change.ignored) return change.ignored;
  const event: NetworkPolicyChange = { type: 'k8s-networkpolicy', ...change.base };
  if (action !== 'delete') {
    const candidates = [payload.response, action === 'patch' ? undefined : payload.request];
    const policy = candidates
      .filter((c) => c?.kind === 'NetworkPolicy')
      .map((c) => networkPolicySchema.safeParse(c))
      .find((r) => r.success);
    if (policy === undefined) return ignore(`networkpolicies.${action} entry records no valid NetworkPolicy`);
    event.policy = { ...policy.data, metadata: { ...policy.data.metadata, namespace: event.namespace } };
  }
  return event;
}

export type { ChangeEvent };
