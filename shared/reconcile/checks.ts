import type { Remediation } from '../domain/finding.ts';
import { ConfigError, LookupError } from '../errors.ts';
import { WATCHED_METHODS } from '../events/methods.ts';
import { METADATA_SERVER_CODE_LABEL, METADATA_SERVER_METRIC } from '../events/monitoring.ts';
import type { LoggingPort, SinkInfo } from '../gcp/logging.ts';
import type { MetricDescriptorPort } from '../gcp/monitoring.ts';
import { type PermissionsPort, READ_PERMISSIONS } from '../gcp/permissions.ts';
import type { TopicIamPort } from '../gcp/pubsub-iam.ts';
import { DELIVERY_NOTE_INTERVAL_MS } from '../incidents/store.ts';
import type { IamPolicy } from '../inventory/snapshot.ts';
import { analyze } from '../pipeline.ts';

/**
 * Watching the watcher: each sweep checks that wi-sentinel can still see what it watches.
 *
 * - `sink`: the audit sink (and the workload sink, where one is deployed) exists, is enabled, routes
 *   to the audit topic, takes the logs of child projects (folder and organization sinks) and no
 *   exclusion drops entries;
 * - `sink-filter`: its filter is the one the code generates (sink-filter.ts);
 * - `sink-writer`: its writer identity may publish to the topic (a publishing role on the topic, or
 *   on the topic's project);
 * - `permissions`: wi-sentinel's own identity holds every permission its reads need, per project;
 * - `deliveries`: audit entries arrive. Cheap and sound: Cloud Logging is asked (one `entries.list`
 *   of at most DELIVERY_SAMPLE entries) for entries the sink's own filter matches, written after the
 *   last delivery auditEvents noted and longer ago than the grace period; those in which the
 *   pipeline's own analysis finds something (what auditEvents notes) should have arrived. None:
 *   healthy (quiet periods are not outages). Nothing ever delivered: counted from the previous sweep
 *   (when wi-sentinel was already watching), never from before it was installed;
 * - `metric`: the metric of the metadata-server alert policy exists in each watched project, with the
 *   label its condition reads: Monitoring accepts a PromQL condition on a metric that does not exist,
 *   and that condition never fires.
 * - `asset-inventory`: the sweep read through Cloud Asset Inventory, not object by object (a
 *   warning: the sweep still judges everything, only slower and nearer IAM's read quotas).
 *
 * `wi-sentinel doctor` runs these same checks, and the deployment's own (deployment-checks.ts), as a
 * person from a laptop (`lookingAs: 'operator'`): then a read the person may not make is a check that
 * could not run, not a degraded wi-sentinel.
 *
 * A check is `healthy`, `failing` (with a summary naming exactly what is wrong and the commands that
 * repair it) or `unknown` (a transient failure: an open incident stays as it is). A check that cannot
 * read what it checks for lack of permission is failing: a watchdog that cannot look is degraded.
 */

export type CheckName =
  | 'sink'
  | 'sink-filter'
  | 'sink-writer'
  | 'permissions'
  | 'deliveries'
  | 'metric'
  | 'asset-inventory'
  // wi-sentinel doctor's (deployment-checks.ts):
  | 'topics'
  | 'function'
  | 'scheduler'
  | 'secrets';

/** How loud a failing check is: a watchdog that cannot see pages; a slower sweep warns. */
export function checkSeverity(check: CheckName): 'error' | 'warning' {
  return check === 'asset-inventory' ? 'warning' : 'error';
}

/**
 * The asset-inventory check, from how the sweep read its inventory: failing (with the command that
 * enables the index, or the grant that lets wi-sentinel search it) when it fell back to direct
 * reads, healthy when it read through the index; nothing for an inventory read another way.
 */
export function assetInventoryCheck(
  sweep: {
    source: string;
    fallback?: { reason: string; project?: string; remediation: Remediation[] };
    projects: readonly string[];
  },
  project: string | undefined,
): CheckResult | undefined {
  const where = sweep.fallback?.project ?? project ?? sweep.projects[0];
  if (where === undefined) return undefined;
  if (sweep.fallback) {
    return failing(
      'asset-inventory',
      where,
      `the sweep read every object directly, not through Cloud Asset Inventory: ${sweep.fallback.reason}`,
      sweep.fallback.remediation,
    );
  }
  if (sweep.source !== 'asset') return undefined;
  return healthy('asset-inventory', where, 'the sweep read through Cloud Asset Inventory');
}

export interface CheckResult {
  check: CheckName;
  /** The project the result is about: the sink's, the watched one, or the topic's for the rest. */
  project: string;
  status: 'healthy' | 'failing' | 'unknown';
  summary: string;
  /** Set when failing. */
  remediation?: Remediation[];
}

export interface SelfCheckPorts {
  logging: LoggingPort;
  topics: TopicIamPort;
  permissions: PermissionsPort;
  /** The IAM policy of a project: a publishing role granted on the topic's project counts too. */
  projectPolicy?: (project: string) => Promise<IamPolicy>;
  /** Metric descriptors, for the `metric` check (which does not run without it). */
  metrics?: MetricDescriptorPort;
}

export interface SelfCheckTarget {
  /** Full sink names (`projects/P/sinks/S`, `folders/F/sinks/S`, `organizations/O/sinks/S`). */
  sinks: string[];
  /** `projects/P/topics/T` */
  topic: string;
  /** The watched projects. */
  projects: string[];
  /** The filter the code generates for the sink. */
  filter: string;
  /** The workload sinks (WI_WORKLOAD_SINK) and the filter the code generates for them. */
  workload?: { sinks: string[]; filter: string };
  /** wi-sentinel's own service account email, when known: repair commands grant to it. */
  identity?: string;
  /**
   * Who reads: wi-sentinel itself (the sweep; a refused read is a degraded wi-sentinel), or a person
   * running `wi-sentinel doctor` (a refused read is a check that could not run, and says what that
   * person lacks). Default wi-sentinel.
   */
  lookingAs?: LookingAs;
}

export type LookingAs = 'wi-sentinel' | 'operator';

export interface DeliveryEvidence {
  /** The latest delivery auditEvents noted (IncidentStore.lastDelivery). */
  lastDelivery?: string;
  /** When wi-sentinel was last known to be watching before now (the previous sweep). */
  watchingSince?: string;
  now: Date;
  /** How long an entry may take from Cloud Logging to auditEvents (default DELIVERY_GRACE_MS). */
  graceMs?: number;
}

/** Log Router delivers within seconds; half an hour leaves room for Pub/Sub retries and backoff. */
export const DELIVERY_GRACE_MS = 30 * 60 * 1000;
/** Entries read per delivery check: enough to describe what was missed. */
export const DELIVERY_SAMPLE = 50;

/** Roles that carry pubsub.topics.publish (https://cloud.google.com/pubsub/docs/access-control). */
const PUBLISHING_ROLES = [
  'roles/pubsub.publisher',
  'roles/pubsub.editor',
  'roles/pubsub.admin',
  'roles/editor',
  'roles/owner',
];

/**
 * A predefined role that holds each permission, for a one-line repair (broader than infra's custom
 * roles, which re-applying the Terraform module restores exactly).
 */
const ROLE_FOR: { prefix: string; role: string }[] = [
  { prefix: 'container.', role: 'roles/container.viewer' },
  { prefix: 'iam.', role: 'roles/iam.securityReviewer' },
  { prefix: 'resourcemanager.', role: 'roles/iam.securityReviewer' },
  { prefix: 'logging.', role: 'roles/logging.viewer' },
  { prefix: 'pubsub.', role: 'roles/pubsub.viewer' },
  { prefix: 'monitoring.', role: 'roles/monitoring.viewer' },
];

// ----------------------------------------------------------------------------- names

export interface SinkParent {
  kind: 'projects' | 'folders' | 'organizations';
  id: string;
  sink: string;
}

/** `projects/P/sinks/S` → its parent and short name; a ConfigError for anything else. */
export function parseSinkName(name: string): SinkParent {
  const match = /^(projects|folders|organizations)\/([^/]+)\/sinks\/([^/]+)$/.exec(name);
  if (!match)
    throw new ConfigError(
      `sink ${JSON.stringify(name)}: expected projects|folders|organizations/ID/sinks/NAME`,
    );
  return { kind: match[1] as SinkParent['kind'], id: match[2] as string, sink: match[3] as string };
}

/** WI_SINK entries as full names: a bare name is that sink in each watched project. */
export function sinkNamesOf(entries: readonly string[], projects: readonly string[]): string[] {
  const names = entries.flatMap((entry) =>
    entry.includes('/') ? [entry] : projects.map((project) => `projects/${project}/sinks/${entry}`),
  );
  for (const name of names) parseSinkName(name);
  return [...new Set(names)];
}

/** WI_AUDIT_TOPIC as `projects/P/topics/T`: a bare id lives in wi-sentinel's own project. */
export function topicNameOf(topic: string, project: string | undefined): string {
  if (topic.startsWith('projects/')) return topic;
  if (project === undefined) {
    throw new ConfigError('WI_AUDIT_TOPIC is a topic id: GOOGLE_CLOUD_PROJECT must name its project');
  }
  return `projects/${project}/topics/${topic}`;
}

function topicParts(topic: string): { project: string; id: string } {
  const match = /^projects\/([^/]+)\/topics\/([^/]+)$/.exec(topic);
  if (!match) throw new ConfigError(`topic ${JSON.stringify(topic)}: expected projects/P/topics/T`);
  return { project: match[1] as string, id: match[2] as string };
}

/** The gcloud flag that names a sink's parent. */
function parentFlag(parent: SinkParent): string {
  const flag = { projects: 'project', folders: 'folder', organizations: 'organization' }[parent.kind];
  return `--${flag}=${parent.id}`;
}

/** The project a sink result is filed under: the sink's own, or the topic's for folders and organizations. */
function sinkProject(parent: SinkParent, topic: string): string {
  return parent.kind === 'projects' ? parent.id : topicParts(topic).project;
}

function sinkLabel(parent: SinkParent): string {
  const where = { projects: 'project', folders: 'folder', organizations: 'organization' }[parent.kind];
  return `log sink ${parent.sink} of ${where} ${parent.id}`;
}

// ----------------------------------------------------------------------------- results

export function healthy(check: CheckName, project: string, summary: string): CheckResult {
  return { check, project, status: 'healthy', summary };
}

export function failing(
  check: CheckName,
  project: string,
  summary: string,
  remediation: Remediation[],
): CheckResult {
  return { check, project, status: 'failing', summary, remediation };
}

export function unknown(check: CheckName, project: string, summary: string): CheckResult {
  return { check, project, status: 'unknown', summary };
}

/**
 * A failed read as a result: wi-sentinel lacking a permission is failing (with the grant that repairs
 * it), anything a retry may cure is unknown. A person running doctor who may not read it could not
 * check it (unknown, naming the permission). Other errors are bugs and propagate.
 */
export function lookupFailed(
  check: CheckName,
  project: string,
  doing: string,
  error: unknown,
  grant: { resource: GrantResource; identity: string | undefined; lookingAs?: LookingAs | undefined },
): CheckResult {
  if (!(error instanceof LookupError)) throw error;
  const refused = error.status === 401 || error.status === 403;
  if (grant.lookingAs === 'operator' && refused) {
    const lacking = error.permission ? `you lack ${error.permission}` : 'your credentials were refused';
    return unknown(check, project, `could not ${doing}: ${lacking} (${error.api} answered ${error.status})`);
  }
  if (error.permission !== undefined && refused) {
    return failing(
      check,
      project,
      `wi-sentinel cannot ${doing}: it lacks ${error.permission} (${error.api} answered ${error.status})`,
      grantSteps([error.permission], grant.resource, grant.identity),
    );
  }
  return unknown(check, project, `could not ${doing}: ${error.message}`);
}

// ----------------------------------------------------------------------------- grants

export type GrantResource =
  | { kind: 'project'; project: string }
  | { kind: 'topic'; topic: string }
  | SinkParent;

/** Repair steps that give wi-sentinel's identity `permissions` on `resource`. */
export function grantSteps(
  permissions: readonly string[],
  resource: GrantResource,
  identity: string | undefined,
): Remediation[] {
  const steps: Remediation[] = [
    {
      title:
        "Re-apply wi-sentinel's Terraform module: it grants exactly the permissions wi-sentinel reads with",
      command: 'terraform apply',
    },
  ];
  if (identity === undefined) return steps;
  const roles = [...new Set(permissions.map((p) => ROLE_FOR.find((r) => p.startsWith(r.prefix))?.role))];
  for (const role of roles) {
    if (role === undefined) continue;
    const held = permissions.filter((p) => ROLE_FOR.find((r) => p.startsWith(r.prefix))?.role === role);
    steps.push({
      title: `Or grant ${role} (holds ${held.join(', ')}) to ${identity}`,
      command: `${bindingCommand(resource)} --member=serviceAccount:${identity} --role=${role}`,
    });
  }
  return steps;
}

function bindingCommand(resource: GrantResource): string {
  switch (resource.kind) {
    case 'project':
      return `gcloud projects add-iam-policy-binding ${resource.project}`;
    case 'topic': {
      const { project, id } = topicParts(resource.topic);
      return `gcloud pubsub topics add-iam-policy-binding ${id} --project=${project}`;
    }
    case 'projects':
      return `gcloud projects add-iam-policy-binding ${resource.id}`;
    case 'folders':
      return `gcloud resource-manager folders add-iam-policy-binding ${resource.id}`;
    case 'organizations':
      return `gcloud organizations add-iam-policy-binding ${resource.id}`;
  }
}

// ----------------------------------------------------------------------------- sink

/** Whitespace is not significant to the Logging query language outside strings; Terraform trims it. */
export function normalizeFilter(filter: string): string {
  return filter.trim().replace(/\s+/g, ' ');
}

/** Watched methods the filter never names: entries of these never reach wi-sentinel. */
export function methodsMissingFrom(filter: string): string[] {
  const text = filter.toLowerCase();
  return [...new Set(WATCHED_METHODS.map((m) => m.method))].filter(
    (method) => !text.includes(`"${method.toLowerCase()}"`),
  );
}

/** The CLI call that prints a sink's generated filter (run from a checkout of wi-sentinel). */
function printFilter(kind: SinkKind): string {
  return kind === 'audit' ? 'npx wi-sentinel sink-filter' : `npx wi-sentinel sink-filter --sink ${kind}`;
}

function sinkFilterCommand(parent: SinkParent, kind: SinkKind): string {
  return `gcloud logging sinks update ${parent.sink} ${parentFlag(parent)} --log-filter="$(${printFilter(kind)})"`;
}

/** Which of the generated filters a sink carries (SINK_FILTERS' names). */
export type SinkKind = 'audit' | 'workload';

const WHAT_A_SINK_ROUTES: Record<SinkKind, string> = {
  audit: 'no audit entry',
  workload: 'no workload credential failure',
};

/** What is wrong with an existing sink besides its filter: one line and its repair each. */
export function sinkProblems(
  sink: SinkInfo,
  parent: SinkParent,
  topic: string,
): { problem: string; step: Remediation }[] {
  const problems: { problem: string; step: Remediation }[] = [];
  const destination = `pubsub.googleapis.com/${topic}`;
  if (sink.disabled) {
    problems.push({
      problem: 'it is disabled, so it routes nothing',
      step: {
        title: `Enable ${parent.sink} again (sinks.patch with updateMask=disabled)`,
        command: `curl -sS -X PATCH -H "Authorization: Bearer $(gcloud auth print-access-token)" -H "Content-Type: application/json" -d '{"disabled": false}' "https://logging.googleapis.com/v2/${sink.name}?updateMask=disabled"`,
      },
    });
  }
  if (sink.destination !== destination) {
    problems.push({
      problem: `it routes to ${sink.destination || 'nowhere'}, not ${destination}`,
      step: {
        title: `Point ${parent.sink} at the audit topic`,
        command: `gcloud logging sinks update ${parent.sink} ${destination} ${parentFlag(parent)}`,
      },
    });
  }
  if (parent.kind !== 'projects' && !sink.includeChildren) {
    problems.push({
      problem: `it does not include children, so no project under ${parent.kind.slice(0, -1)} ${parent.id} is routed`,
      step: {
        title: `Route the logs of every project under ${parent.id}`,
        command: `gcloud logging sinks update ${parent.sink} ${parentFlag(parent)} --include-children`,
      },
    });
  }
  if (sink.exclusions.length > 0) {
    const names = sink.exclusions.map((e) => e.name);
    problems.push({
      problem: `exclusion${names.length === 1 ? '' : 's'} ${names.join(', ')} drop${names.length === 1 ? 's' : ''} entries before they are routed`,
      step: {
        title: `Remove the exclusion${names.length === 1 ? '' : 's'} from ${parent.sink}`,
        command: `gcloud logging sinks update ${parent.sink} ${parentFlag(parent)} --remove-exclusions=${names.join(',')}`,
      },
    });
  }
  return problems;
}

/**
 * The `sink` and `sink-filter` results of one sink, and the sink itself when it was read. `kind`
 * says which generated filter it must carry (`target.filter` is that filter).
 */
export async function checkSink(
  ports: Pick<SelfCheckPorts, 'logging'>,
  name: string,
  target: Pick<SelfCheckTarget, 'topic' | 'filter' | 'identity' | 'lookingAs'>,
  kind: SinkKind = 'audit',
): Promise<{ results: CheckResult[]; sink?: SinkInfo }> {
  const parent = parseSinkName(name);
  const project = sinkProject(parent, target.topic);
  const label = sinkLabel(parent);
  let sink: SinkInfo | undefined;
  try {
    sink = await ports.logging.getSink(name);
  } catch (error) {
    return {
      results: [
        lookupFailed('sink', project, `read ${label}`, error, {
          resource: parent,
          identity: target.identity,
          lookingAs: target.lookingAs,
        }),
      ],
    };
  }
  if (sink === undefined) {
    const { project: topicProject, id } = topicParts(target.topic);
    const children = parent.kind === 'projects' ? '' : ' --include-children';
    return {
      results: [
        failing(
          'sink',
          project,
          `${label} does not exist: ${WHAT_A_SINK_ROUTES[kind]} reaches wi-sentinel from there`,
          [
            {
              title: `Create ${parent.sink} with the generated filter (run from a checkout of wi-sentinel)`,
              command: `gcloud logging sinks create ${parent.sink} pubsub.googleapis.com/${target.topic} ${parentFlag(parent)}${children} --log-filter="$(${printFilter(kind)})"`,
            },
            {
              title: `Let the new sink's writer identity publish to ${id}`,
              command: `gcloud pubsub topics add-iam-policy-binding ${id} --project=${topicProject} --member="$(gcloud logging sinks describe ${parent.sink} ${parentFlag(parent)} --format='value(writerIdentity)')" --role=roles/pubsub.publisher`,
            },
          ],
        ),
      ],
    };
  }

  const problems = sinkProblems(sink, parent, target.topic);
  const sinkResult =
    problems.length === 0
      ? healthy('sink', project, `${label} is enabled and routes to ${target.topic}`)
      : failing(
          'sink',
          project,
          `${label}: ${problems.map((p) => p.problem).join('; ')}`,
          problems.map((p) => p.step),
        );

  let filterResult: CheckResult;
  if (normalizeFilter(sink.filter) === normalizeFilter(target.filter)) {
    filterResult = healthy('sink-filter', project, `${label} has the generated filter`);
  } else {
    const missing = kind === 'audit' ? methodsMissingFrom(sink.filter) : [];
    const detail =
      kind === 'workload'
        ? 'workload credential failures it does not match never reach wi-sentinel'
        : missing.length > 0
          ? `entries of ${missing.length} watched method${missing.length === 1 ? '' : 's'} never reach wi-sentinel (${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''})`
          : 'it names every watched method, but what else it says differs, so entries may be dropped';
    filterResult = failing(
      'sink-filter',
      project,
      `${label} has a filter other than the generated one: ${detail}`,
      [
        {
          title: `Restore the generated filter (run from a checkout of wi-sentinel)`,
          command: sinkFilterCommand(parent, kind),
        },
      ],
    );
  }
  return { results: [sinkResult, filterResult], sink };
}

// ----------------------------------------------------------------------------- writer

function grantsPublish(policy: IamPolicy, member: string): 'yes' | 'conditional' | 'no' {
  const bindings = policy.bindings.filter(
    (b) => PUBLISHING_ROLES.includes(b.role) && b.members.includes(member),
  );
  if (bindings.some((b) => b.condition === undefined || b.condition === null)) return 'yes';
  return bindings.length > 0 ? 'conditional' : 'no';
}

/** The `sink-writer` result: the sink's writer identity may publish to the audit topic. */
export async function checkSinkWriter(
  ports: Pick<SelfCheckPorts, 'topics' | 'projectPolicy'>,
  sink: SinkInfo,
  target: Pick<SelfCheckTarget, 'topic' | 'identity' | 'lookingAs'>,
): Promise<CheckResult> {
  const parent = parseSinkName(sink.name);
  const project = sinkProject(parent, target.topic);
  const label = sinkLabel(parent);
  const { project: topicProject, id } = topicParts(target.topic);
  const writer = sink.writerIdentity;
  if (!writer) {
    return failing('sink-writer', project, `${label} has no writer identity, so it cannot publish`, [
      {
        title: `Recreate ${parent.sink} (a sink gets its writer identity when created)`,
        command: `gcloud logging sinks describe ${parent.sink} ${parentFlag(parent)}`,
      },
    ]);
  }
  const grant: Remediation = {
    title: `Let ${label}'s writer identity publish to ${id}`,
    command: `gcloud pubsub topics add-iam-policy-binding ${id} --project=${topicProject} --member=${writer} --role=roles/pubsub.publisher`,
  };
  let policy: IamPolicy | undefined;
  try {
    policy = await ports.topics.getTopicPolicy(target.topic);
  } catch (error) {
    return lookupFailed('sink-writer', project, `read the IAM policy of topic ${target.topic}`, error, {
      resource: { kind: 'topic', topic: target.topic },
      identity: target.identity,
      lookingAs: target.lookingAs,
    });
  }
  if (policy === undefined) {
    return failing(
      'sink-writer',
      project,
      `topic ${target.topic} does not exist: ${label} has nowhere to publish`,
      [
        {
          title: `Create the audit topic ${id}`,
          command: `gcloud pubsub topics create ${id} --project=${topicProject}`,
        },
        grant,
      ],
    );
  }
  const onTopic = grantsPublish(policy, writer);
  if (onTopic === 'yes') return healthy('sink-writer', project, `${writer} may publish to ${target.topic}`);

  let note = '';
  if (ports.projectPolicy) {
    try {
      const onProject = grantsPublish(await ports.projectPolicy(topicProject), writer);
      if (onProject === 'yes') {
        return healthy(
          'sink-writer',
          project,
          `${writer} may publish to ${target.topic} (granted on project ${topicProject})`,
        );
      }
      if (onProject === 'conditional')
        note = `; its grant on project ${topicProject} holds only under a condition`;
    } catch (error) {
      if (!(error instanceof LookupError)) throw error;
      note = `; grants on project ${topicProject} could not be read (${error.message})`;
    }
  }
  if (onTopic === 'conditional') note = `; its grant on the topic holds only under a condition${note}`;
  return failing(
    'sink-writer',
    project,
    `${writer}, the writer identity of ${label}, may not publish to ${target.topic}: Log Router drops every entry it routes${note}`,
    [grant],
  );
}

// ----------------------------------------------------------------------------- permissions

export interface PermissionsCheckOptions {
  /** What it must hold (default READ_PERMISSIONS). */
  permissions?: readonly string[];
  /** Who holds them, for messages (default wi-sentinel). */
  who?: string;
  lookingAs?: LookingAs | undefined;
}

/**
 * The `permissions` result of one watched project: the identity whose tokens `ports.permissions`
 * uses holds each permission (testIamPermissions answers for the caller). doctor gives it an
 * impersonated identity's tokens: a refused impersonation is the operator's lack, not the identity's.
 */
export async function checkPermissions(
  ports: Pick<SelfCheckPorts, 'permissions'>,
  project: string,
  identity?: string,
  options: PermissionsCheckOptions = {},
): Promise<CheckResult> {
  const needed = options.permissions ?? READ_PERMISSIONS;
  const who = options.who ?? 'wi-sentinel';
  let granted: string[];
  try {
    granted = await ports.permissions.granted(project, needed);
  } catch (error) {
    if (error instanceof LookupError && error.api === 'iamcredentials') {
      return lookupFailed('permissions', project, `act as ${who} to test its permissions`, error, {
        resource: { kind: 'project', project },
        identity,
        lookingAs: 'operator',
      });
    }
    if (error instanceof LookupError && (error.status === 403 || error.status === 404)) {
      return failing(
        'permissions',
        project,
        `${who} holds no permission on project ${project} (or it does not exist): nothing there is watched`,
        grantSteps(needed, { kind: 'project', project }, identity),
      );
    }
    return lookupFailed(
      'permissions',
      project,
      `test the permissions of ${who} on project ${project}`,
      error,
      {
        resource: { kind: 'project', project },
        identity,
        lookingAs: options.lookingAs,
      },
    );
  }
  const missing = needed.filter((permission) => !granted.includes(permission));
  if (missing.length === 0) {
    return healthy('permissions', project, `${who} holds every permission it reads project ${project} with`);
  }
  return failing(
    'permissions',
    project,
    `${who} lacks ${missing.join(', ')} on project ${project}: what needs ${missing.length === 1 ? 'it' : 'them'} is not watched there`,
    grantSteps(missing, { kind: 'project', project }, identity),
  );
}

// ----------------------------------------------------------------------------- metric

/**
 * The `metric` result of one watched project: the metadata-server alert's metric exists there and
 * carries the label its condition groups answers by. Monitoring accepts a PromQL condition on a
 * metric (or a label) that does not exist and evaluates it to nothing, so the alert would stay
 * silent through a metadata-server outage.
 */
export async function checkMetric(
  ports: Required<Pick<SelfCheckPorts, 'metrics'>>,
  project: string,
  target: Pick<SelfCheckTarget, 'identity' | 'lookingAs'> = {},
): Promise<CheckResult> {
  let descriptor: Awaited<ReturnType<MetricDescriptorPort['getMetricDescriptor']>>;
  try {
    descriptor = await ports.metrics.getMetricDescriptor(project, METADATA_SERVER_METRIC);
  } catch (error) {
    return lookupFailed(
      'metric',
      project,
      `read the descriptor of ${METADATA_SERVER_METRIC} in project ${project}`,
      error,
      {
        resource: { kind: 'project', project },
        identity: target.identity,
        lookingAs: target.lookingAs,
      },
    );
  }
  const list: Remediation = {
    title: `See which metadata-server metrics project ${project} has`,
    command: `curl -sS -H "Authorization: Bearer $(gcloud auth print-access-token)" "https://monitoring.googleapis.com/v3/projects/${project}/metricDescriptors?filter=metric.type%3Dstarts_with(%22kubernetes.io%2Fnode%2Fmetadata_server%22)"`,
  };
  const regenerate: Remediation = {
    title:
      'Name the right metric or label in shared/events/monitoring.ts (METADATA_SERVER_METRIC, METADATA_SERVER_CODE_LABEL), regenerate infra/generated/ and re-apply',
    command: 'npx node test/infra/generated.ts && terraform apply',
  };
  if (descriptor === undefined) {
    return failing(
      'metric',
      project,
      `the metadata-server alert can never fire: metric ${METADATA_SERVER_METRIC} does not exist in project ${project}, and Monitoring evaluates a condition on a missing metric to nothing`,
      [list, regenerate],
    );
  }
  if (!descriptor.labels.includes(METADATA_SERVER_CODE_LABEL)) {
    return failing(
      'metric',
      project,
      `the metadata-server alert can never fire: metric ${METADATA_SERVER_METRIC} in project ${project} has no label ${METADATA_SERVER_CODE_LABEL} (it has ${descriptor.labels.join(', ') || 'none'}), which its condition selects errors by`,
      [list, regenerate],
    );
  }
  return healthy(
    'metric',
    project,
    `metric ${METADATA_SERVER_METRIC} exists in project ${project} with label ${METADATA_SERVER_CODE_LABEL}: the metadata-server alert can fire`,
  );
}

// ----------------------------------------------------------------------------- deliveries

/**
 * Whether auditEvents notes this entry when it arrives: it does for every change with findings (the
 * ones that reach the store; changes that find nothing are acknowledged without touching it). Judged
 * as auditEvents judges in production, with no inventory.
 */
function wouldNote(entry: unknown): boolean {
  const analysis = analyze(entry);
  return analysis.outcome === 'change' && analysis.findings.length > 0;
}

function describeEntry(entry: unknown): string {
  const e = entry as {
    timestamp?: string;
    protoPayload?: { methodName?: string; authenticationInfo?: { principalEmail?: string } };
    logName?: string;
  };
  const method = e.protoPayload?.methodName ?? 'an entry';
  const actor = e.protoPayload?.authenticationInfo?.principalEmail;
  const project = /^projects\/([^/]+)\//.exec(e.logName ?? '')?.[1];
  return `${method}${actor ? ` by ${actor}` : ''}${e.timestamp ? ` at ${e.timestamp}` : ''}${project ? ` in ${project}` : ''}`;
}

function minutes(ms: number): string {
  return ms % 3_600_000 === 0 ? `${ms / 3_600_000} h` : `${Math.round(ms / 60_000)} min`;
}

/** The `deliveries` result: watched changes older than the grace period arrived. */
export async function checkDeliveries(
  ports: Pick<SelfCheckPorts, 'logging'>,
  target: Pick<SelfCheckTarget, 'topic' | 'projects' | 'filter' | 'identity' | 'lookingAs'>,
  evidence: DeliveryEvidence,
): Promise<CheckResult> {
  const { project: hostProject, id } = topicParts(target.topic);
  const grace = evidence.graceMs ?? DELIVERY_GRACE_MS;
  const now = evidence.now.getTime();
  // A note may lag its delivery by the store's note interval: entries in that gap were delivered.
  const from =
    evidence.lastDelivery !== undefined
      ? Date.parse(evidence.lastDelivery) + DELIVERY_NOTE_INTERVAL_MS
      : evidence.watchingSince !== undefined
        ? Date.parse(evidence.watchingSince)
        : Number.NaN;
  if (Number.isNaN(from)) {
    return unknown('deliveries', hostProject, 'nothing delivered yet and no earlier sweep to count from');
  }
  const until = now - grace;
  const since =
    evidence.lastDelivery !== undefined
      ? `the last delivery at ${evidence.lastDelivery}`
      : `${evidence.watchingSince}`;
  if (until <= from || target.projects.length === 0) {
    return healthy('deliveries', hostProject, `no watched change can be overdue yet (since ${since})`);
  }
  const filter = `${target.filter}\nAND timestamp>"${new Date(from).toISOString()}"\nAND timestamp<="${new Date(until).toISOString()}"`;
  let entries: unknown[];
  try {
    entries = await ports.logging.listEntries({
      resourceNames: target.projects.map((p) => `projects/${p}`),
      filter,
      orderBy: 'timestamp asc',
      pageSize: DELIVERY_SAMPLE,
    });
  } catch (error) {
    return lookupFailed(
      'deliveries',
      hostProject,
      'read recent audit entries to see whether they arrive',
      error,
      {
        resource: { kind: 'project', project: target.projects[0] ?? hostProject },
        identity: target.identity,
        lookingAs: target.lookingAs,
      },
    );
  }
  const missed = entries.filter(wouldNote);
  if (missed.length === 0) {
    return healthy(
      'deliveries',
      hostProject,
      `every watched change older than ${minutes(grace)} arrived (since ${since})`,
    );
  }
  const count = entries.length >= DELIVERY_SAMPLE ? `at least ${missed.length}` : String(missed.length);
  return failing(
    'deliveries',
    hostProject,
    `${count} watched change${missed.length === 1 ? '' : 's'} written since ${since} did not reach wi-sentinel within ${minutes(grace)}, the first ${describeEntry(missed[0])}: alerts wait for the next sweep until deliveries resume`,
    [
      {
        title: `See whether the subscriptions of ${id} are backlogged or failing`,
        command: `gcloud pubsub topics list-subscriptions ${id} --project=${hostProject}`,
      },
      {
        title: 'Read the errors of wi-sentinel’s functions',
        command: `gcloud logging read 'resource.type="cloud_run_revision" AND severity>=ERROR' --project=${hostProject} --freshness=6h --limit=20`,
      },
    ],
  );
}

// ----------------------------------------------------------------------------- all

/**
 * The checks of the sinks (audit, then workload: sink, filter, writer), in order. One writer check
 * per sink: sinks of one parent share a writer identity, so those results share a fingerprint too.
 */
export function checkSinks(ports: SelfCheckPorts, target: SelfCheckTarget): Promise<CheckResult[]>[] {
  const sinks: { name: string; kind: SinkKind; filter: string }[] = [
    ...target.sinks.map((name) => ({ name, kind: 'audit' as const, filter: target.filter })),
    ...(target.workload?.sinks ?? []).map((name) => ({
      name,
      kind: 'workload' as const,
      filter: target.workload?.filter ?? '',
    })),
  ];
  return sinks.map(async ({ name, kind, filter }) => {
    const { results, sink } = await checkSink(ports, name, { ...target, filter }, kind);
    return sink === undefined ? results : [...results, await checkSinkWriter(ports, sink, target)];
  });
}

/**
 * Every self-check, in a stable order: each sink (sink, filter, writer), each project's permissions,
 * each project's metadata-server metric (with a metrics port), deliveries.
 */
export async function selfCheck(
  ports: SelfCheckPorts,
  target: SelfCheckTarget,
  evidence: DeliveryEvidence,
): Promise<CheckResult[]> {
  const { metrics } = ports;
  const [sinks, permissions, metric, deliveries] = await Promise.all([
    Promise.all(checkSinks(ports, target)),
    Promise.all(
      target.projects.map((project) =>
        checkPermissions(ports, project, target.identity, { lookingAs: target.lookingAs }),
      ),
    ),
    metrics ? Promise.all(target.projects.map((project) => checkMetric({ metrics }, project, target))) : [],
    checkDeliveries(ports, target, evidence),
  ]);
  return [...sinks.flat(), ...permissions, ...metric, deliveries];
}
