import type { Attribution, Tool } from '../domain/attribution.ts';
import type { Finding, PolicyRewrite, Remediation } from '../domain/finding.ts';
import { classicMember, projectOfEmail } from '../inventory/members.ts';
import { WI_USER_ROLE } from '../inventory/snapshot.ts';
import {
  configConnector,
  crossplane,
  kubernetesObject,
  type Link,
  type PolicyWriter,
  pulumi,
  terraform,
} from './remediation-iac.ts';

/**
 * A finding's repair in the words of the tool that made the change. Infrastructure kept as code is
 * repaired in its code: a `gcloud` fix of a link Terraform (or Config Connector, Pulumi, Crossplane)
 * broke is undone by the tool's next apply or reconcile whenever the tool holds that state. So:
 *   - Terraform / OpenTofu, Pulumi, Config Connector, Crossplane: the change to their configuration
 *     first, today's commands after it as the way to restore service now, and a warning when a fix by
 *     hand will not last (an authoritative resource, a reconciling controller);
 *   - gcloud, the Console, client libraries, kubectl and unknown agents: today's commands first, then
 *     the Terraform form as the durable fix;
 *   - Google's and Kubernetes' own agents, Deployment Manager: today's commands.
 * Sweep findings (no cause) keep today's commands.
 */

/** What the finding alone does not say but its repair needs. */
export interface RepairFacts {
  /** binding-missing: the member the change removed, in the form it had (principal://, …). */
  member?: string;
  /** binding-missing after a rewrite: the role's members the request left (the repair adds one back). */
  roleMembers?: string[];
  /** gsa-shared: the KSAs that should get a GSA of their own. */
  movers?: { namespace: string; name: string }[];
  /** gsa-shared: the account id of the new GSA for a KSA. */
  accountIdOf?: (namespace: string, name: string) => string;
}

export interface ToolRepair {
  remediation?: Remediation[];
  remediationWarning?: string;
}

/** Tools whose configuration holds the state they set; what their repair is written in. */
type Family = 'terraform' | 'pulumi' | 'config-connector' | 'crossplane' | 'by-hand' | 'google';

const FAMILY: Record<Tool, Family> = {
  terraform: 'terraform',
  opentofu: 'terraform',
  pulumi: 'pulumi',
  'config-connector': 'config-connector',
  crossplane: 'crossplane',
  gcloud: 'by-hand',
  console: 'by-hand',
  'client-library': 'by-hand',
  'kubernetes-client': 'by-hand',
  unknown: 'by-hand',
  // Deployment Manager has reached end of support
  // (https://cloud.google.com/deployment-manager/docs/deprecations): its durable fix is Terraform.
  'deployment-manager': 'by-hand',
  gke: 'google',
  'service-agent': 'google',
  kubernetes: 'google',
};

export function inToolWords(finding: Finding, facts: RepairFacts = {}): ToolRepair {
  const today = finding.remediation ?? [];
  const via = finding.cause?.via;
  if (finding.status !== 'firing' || today.length === 0 || via === undefined) return keep(finding);
  const family = FAMILY[via.tool];
  if (family === 'google') return keep(finding);
  const links = linksOf(finding, facts);
  if (links.length === 0) return keep(finding);
  const writer = writerOf(finding.cause?.replaced);
  const members = facts.roleMembers ?? [];
  if (family === 'by-hand') {
    const durable = links.map((link) => durableFix(link, via, writer, members));
    return { remediation: [...today, ...durable] };
  }
  // A module (or blueprint) made the change: that is where the configuration to change lives.
  const where = via.module ? ` (the change came through ${via.module}: change it there)` : '';
  const words = links
    .map((link) => inFamily(family, link, writer, members, via))
    .map((step) => ({ ...step, title: `${step.title}${where}` }));
  const warning = warningOf(finding, via, writer);
  return {
    remediation: [...words, ...today.map(asNow)],
    ...(warning ? { remediationWarning: warning } : {}),
  };
}

function keep(finding: Finding): ToolRepair {
  return {
    ...(finding.remediation ? { remediation: finding.remediation } : {}),
    ...(finding.remediationWarning ? { remediationWarning: finding.remediationWarning } : {}),
  };
}

function inFamily(
  family: Exclude<Family, 'by-hand' | 'google'>,
  link: Link,
  writer: PolicyWriter,
  members: string[],
  via: Attribution,
): Remediation {
  switch (family) {
    case 'terraform':
      return terraform(link, writer, members);
    case 'pulumi':
      return pulumi(link, writer, members);
    case 'config-connector':
      return configConnector(link, writer, members, via.namespace);
    case 'crossplane':
      return crossplane(link, writer, members);
  }
}

/**
 * What keeps a fix made by hand: Terraform's form, except for Kubernetes objects a Kubernetes client
 * changed (kubectl, Argo CD, Flux, Helm), whose durable home is the manifest they were applied from.
 */
function durableFix(link: Link, via: Attribution, writer: PolicyWriter, members: string[]): Remediation {
  if (
    via.tool === 'kubernetes-client' &&
    (link.link === 'annotation' || link.link === 'egress' || link.link === 'key-file')
  ) {
    const step = kubernetesObject(link);
    return {
      ...step,
      title: `Durable fix, in the manifest it was applied from (${via.label}): ${lowerFirst(step.title)}`,
    };
  }
  const step = terraform(link, writer, members);
  return { ...step, title: `Durable fix, in Terraform: ${lowerFirst(step.title)}` };
}

function asNow(step: Remediation): Remediation {
  return { ...step, title: `Now, by hand: ${lowerFirst(step.title)}` };
}

function lowerFirst(text: string): string {
  return /^[A-Z][a-z]/.test(text) ? `${text[0]?.toLowerCase()}${text.slice(1)}` : text;
}

function writerOf(replaced: PolicyRewrite | undefined): PolicyWriter {
  if (replaced === undefined) return 'member';
  return replaced.scope === 'policy' ? 'policy' : 'role';
}

/** What the finding's link is, in names every tool can use. */
export function linksOf(finding: Finding, facts: RepairFacts = {}): Link[] {
  const [ksa] = finding.ksas;
  const gsa = finding.gsa;
  const gsaProject = gsa ? (projectOfEmail(gsa) ?? finding.project) : finding.project;
  const workload = finding.workloads?.[0];
  switch (finding.kind) {
    case 'binding-missing': {
      const member =
        facts.member ?? (ksa ? classicMember(ksa.workloadPool, ksa.namespace, ksa.name) : undefined);
      return gsa && member ? [{ link: 'binding', project: gsaProject, gsa, member }] : [];
    }
    case 'nodepool-metadata-disabled':
      return finding.cluster && finding.nodePool
        ? [{ link: 'pool', project: finding.project, cluster: finding.cluster, pool: finding.nodePool }]
        : [];
    case 'cluster-wi-disabled':
      return finding.cluster
        ? [
            {
              link: 'cluster',
              project: finding.project,
              cluster: finding.cluster,
              workloadPool: ksa?.workloadPool ?? `${finding.project}.svc.id.goog`,
            },
          ]
        : [];
    case 'annotation-missing':
      return ksa && gsa ? [{ link: 'annotation', namespace: ksa.namespace, ksa: ksa.name, gsa }] : [];
    case 'gsa-missing':
    case 'gsa-disabled':
      return gsa
        ? [{ link: 'gsa', project: gsaProject, gsa, disabled: finding.kind === 'gsa-disabled' }]
        : [];
    case 'metadata-egress-blocked': {
      const namespace = ksa?.namespace ?? workload?.namespace;
      return namespace ? [{ link: 'egress', namespace }] : [];
    }
    case 'key-file-override':
      return workload
        ? [{ link: 'key-file', namespace: workload.namespace, workload: `${workload.kind}/${workload.name}` }]
        : [];
    case 'gsa-broad-role': {
      const role = finding.fingerprint.split('/').at(-1);
      return gsa && role
        ? [
            {
              link: 'grant',
              resource: `projects/${finding.project}`,
              member: `serviceAccount:${gsa}`,
              role,
              remove: true,
            },
          ]
        : [];
    }
    case 'binding-orphaned':
      return gsa && ksa
        ? [
            {
              link: 'grant',
              resource: `projects/${gsaProject}/serviceAccounts/${gsa}`,
              member: classicMember(ksa.workloadPool, ksa.namespace, ksa.name),
              role: WI_USER_ROLE,
              remove: true,
            },
          ]
        : [];
    case 'gsa-shared':
      return (facts.movers ?? []).flatMap((mover): Link[] => {
        const pool = finding.ksas.find(
          (k) => k.namespace === mover.namespace && k.name === mover.name,
        )?.workloadPool;
        const accountId = facts.accountIdOf?.(mover.namespace, mover.name);
        if (pool === undefined || accountId === undefined) return [];
        const own = `${accountId}@${gsaProject}.iam.gserviceaccount.com`;
        return [
          { link: 'gsa', project: gsaProject, gsa: own, disabled: false },
          {
            link: 'binding',
            project: gsaProject,
            gsa: own,
            member: classicMember(pool, mover.namespace, mover.name),
          },
          { link: 'annotation', namespace: mover.namespace, ksa: mover.name, gsa: own },
        ];
      });
    case 'sentinel-degraded':
    case 'wi-auth-failures':
      return [];
  }
}

/** `terraform apply`, or both commands when the entry cannot tell Terraform from OpenTofu. */
function applyCommand(via: Attribution): string {
  if (via.tool === 'opentofu') return 'tofu apply';
  if (via.tool === 'pulumi') return 'pulumi up';
  return via.label.includes('OpenTofu') ? 'terraform apply (or tofu apply)' : 'terraform apply';
}

/** The resource kind, per tool, that writes a role's whole member list or the whole policy. */
const AUTHORITATIVE: Record<
  'terraform' | 'pulumi' | 'config-connector' | 'crossplane',
  Record<'role' | 'policy', string>
> = {
  terraform: { role: 'google_service_account_iam_binding', policy: 'google_service_account_iam_policy' },
  pulumi: { role: 'gcp.serviceaccount.IAMBinding', policy: 'gcp.serviceaccount.IAMPolicy' },
  'config-connector': { role: 'IAMPolicy', policy: 'IAMPolicy' },
  crossplane: { role: 'ServiceAccountIAMBinding', policy: 'ServiceAccountIAMPolicy' },
};

const MEMBER_RESOURCE = {
  terraform: 'google_service_account_iam_member',
  pulumi: 'gcp.serviceaccount.IAMMember',
  'config-connector': 'IAMPolicyMember',
  crossplane: 'ServiceAccountIAMMember',
} as const;

/**
 * Config Connector re-applies every resource about every 10 minutes (IAMPolicyMember's "Default
 * Average Reconcile Interval In Seconds: 600",
 * https://cloud.google.com/config-connector/docs/reference/resource-docs/iam/iampolicymember), and
 * Crossplane's managed resources likewise poll and correct drift: a fix by hand lasts minutes.
 */
function reapplied(via: Attribution): string {
  if (via.tool === 'config-connector') return "Config Connector's next reconcile (about every 10 minutes)";
  if (via.tool === 'crossplane') return "Crossplane's next reconcile";
  return `the next ${applyCommand(via)}`;
}

/**
 * Why a fix by hand will not last. For a binding: when the request replaced the role's whole member
 * list or the whole policy, an authoritative resource is at work, and the member must go into that
 * resource (a member resource beside it would fight it). For a setting the tool manages (a pool's
 * metadata mode, the cluster's pool, an account's state, an annotation): the tool sets it back.
 */
function warningOf(finding: Finding, via: Attribution, writer: PolicyWriter): string | undefined {
  const family = FAMILY[via.tool] as keyof typeof AUTHORITATIVE;
  const replaced = finding.cause?.replaced;
  if (finding.kind === 'binding-missing') {
    if (replaced === undefined || writer === 'member') return undefined;
    const resource = AUTHORITATIVE[family][replaced.scope];
    const what =
      replaced.scope === 'role'
        ? `replaced the whole member list of ${replaced.role} on ${finding.gsa} (${replaced.removed} removed, ${replaced.added} added)`
        : `set the whole policy of ${finding.gsa} (${replaced.removed} removed, ${replaced.added} added across ${replaced.roles} roles)`;
    const into =
      replaced.scope === 'role' ? `into that ${resource}` : `into the policy that ${resource} sets`;
    return `This looks like an authoritative resource at work: the request ${what}, as ${resource} does. A gcloud fix will be undone by ${reapplied(via)}. Put the member ${into} (step 1); a ${MEMBER_RESOURCE[family]} beside it would be removed again.`;
  }
  const managed = ['nodepool-metadata-disabled', 'cluster-wi-disabled', 'gsa-disabled', 'annotation-missing'];
  if (!managed.includes(finding.kind)) return undefined;
  // Config Connector and Crossplane do not manage KSAs: an annotation is kubectl's to restore.
  if (finding.kind === 'annotation-missing' && (family === 'config-connector' || family === 'crossplane'))
    return undefined;
  return `${via.label} set this from its configuration: a gcloud or kubectl fix lasts only until ${reapplied(via)}. Change the configuration (step 1).`;
}
