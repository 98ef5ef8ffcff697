import type { ClusterRef, Remediation } from '../domain/finding.ts';
import { METADATA_IP, METADATA_PORTS } from '../inventory/network-policy.ts';
import { KEY_FILE_VARIABLE, WI_ANNOTATION, WI_USER_ROLE } from '../inventory/snapshot.ts';
import { metadataEgressManifest } from './remediation.ts';

/**
 * The repairs of remediation.ts in the words of the tools that keep infrastructure as code:
 * Terraform / OpenTofu HCL (terraform-provider-google and terraform-provider-kubernetes resources),
 * Config Connector and Crossplane manifests, Pulumi (TypeScript) resources. Real names are filled
 * in; each snippet is whole enough to parse (tests run the HCL through @cdktf/hcl2json and the YAML
 * through the yaml parser). A snippet sets the fields that restore the link and the ones that name
 * the object; the rest of the object stays as the configuration has it.
 */

/** What one repair restores, named as every tool can name it. */
export type Link =
  | { link: 'binding'; project: string; gsa: string; member: string }
  | { link: 'pool'; project: string; cluster: ClusterRef; pool: string }
  | { link: 'cluster'; project: string; cluster: ClusterRef; workloadPool: string }
  | { link: 'annotation'; namespace: string; ksa: string; gsa: string }
  | { link: 'gsa'; project: string; gsa: string; disabled: boolean }
  | { link: 'egress'; namespace: string }
  | { link: 'key-file'; namespace: string; workload: string }
  | { link: 'grant'; resource: string; member: string; role: string; remove: true };

/** How the policy was written, for the resource that must change (see PolicyRewrite). */
export type PolicyWriter = 'member' | 'role' | 'policy';

const serviceAccountId = (project: string, gsa: string) => `projects/${project}/serviceAccounts/${gsa}`;

/** A GSA's account id: its email's local part. */
const accountIdOf = (gsa: string) => gsa.split('@')[0] ?? gsa;

/** A valid Terraform/Pulumi/Kubernetes name from the link's parts. */
export function resourceName(separator: '_' | '-', ...parts: string[]): string {
  const name = parts
    .join(separator)
    .toLowerCase()
    .replace(/@.*$/, '')
    .replace(/[^a-z0-9]+/g, separator)
    .replace(new RegExp(`^[^a-z]+|\\${separator}+$`, 'g'), '');
  return (name || 'workload_identity').slice(0, 63);
}

// ------------------------------------------------------------------------------------------ HCL

/** An HCL string: JSON's escapes, and template sequences (`${`, `%{`) doubled so they stay literal. */
function hcl(value: string): string {
  return JSON.stringify(value).replace(/\$\{/g, '$${').replace(/%\{/g, '%%{');
}

function hclList(values: readonly string[], indent: string): string {
  return `[\n${values.map((v) => `${indent}  ${hcl(v)},`).join('\n')}\n${indent}]`;
}

function gsaLabel(gsa: string) {
  return resourceName('_', gsa);
}

export function terraform(
  link: Link,
  writer: PolicyWriter = 'member',
  roleMembers: string[] = [],
): Remediation {
  const repair = (title: string, command: string): Remediation => ({
    title,
    command,
    tool: 'terraform',
    language: 'hcl',
  });
  switch (link.link) {
    case 'binding': {
      const id = serviceAccountId(link.project, link.gsa);
      const members = [...new Set([...roleMembers, link.member])].sort();
      if (writer === 'role') {
        return repair(
          `Add the member to the members of the google_service_account_iam_binding that owns ${WI_USER_ROLE} on ${link.gsa}`,
          [
            `resource "google_service_account_iam_binding" "${gsaLabel(link.gsa)}_workload_identity" {`,
            `  service_account_id = ${hcl(id)}`,
            `  role               = ${hcl(WI_USER_ROLE)}`,
            `  members = ${hclList(members, '  ')}`,
            '}',
          ].join('\n'),
        );
      }
      if (writer === 'policy') {
        return repair(
          `Add the binding to the google_iam_policy that google_service_account_iam_policy sets on ${link.gsa} (keep its other bindings)`,
          [
            `data "google_iam_policy" "${gsaLabel(link.gsa)}" {`,
            '  binding {',
            `    role    = ${hcl(WI_USER_ROLE)}`,
            `    members = ${hclList(members, '    ')}`,
            '  }',
            '}',
          ].join('\n'),
        );
      }
      return repair(
        `Declare the binding (google_service_account_iam_member), then apply`,
        [
          `resource "google_service_account_iam_member" "${resourceName('_', memberName(link.member), 'workload_identity')}" {`,
          `  service_account_id = ${hcl(id)}`,
          `  role               = ${hcl(WI_USER_ROLE)}`,
          `  member             = ${hcl(link.member)}`,
          '}',
        ].join('\n'),
      );
    }
    case 'pool':
      return repair(
        `Set workload_metadata_config to GKE_METADATA on ${link.pool} (its google_container_node_pool, or the node_pool block of google_container_cluster ${link.cluster.name})`,
        [
          `resource "google_container_node_pool" "${resourceName('_', link.pool)}" {`,
          `  name     = ${hcl(link.pool)}`,
          `  cluster  = ${hcl(link.cluster.name)}`,
          `  location = ${hcl(link.cluster.location)}`,
          `  project  = ${hcl(link.project)}`,
          '',
          '  node_config {',
          '    workload_metadata_config {',
          '      mode = "GKE_METADATA"',
          '    }',
          '  }',
          '}',
        ].join('\n'),
      );
    case 'cluster':
      return repair(
        `Set workload_identity_config on google_container_cluster ${link.cluster.name}`,
        [
          `resource "google_container_cluster" "${resourceName('_', link.cluster.name)}" {`,
          `  name     = ${hcl(link.cluster.name)}`,
          `  location = ${hcl(link.cluster.location)}`,
          `  project  = ${hcl(link.project)}`,
          '',
          '  workload_identity_config {',
          `    workload_pool = ${hcl(link.workloadPool)}`,
          '  }',
          '}',
        ].join('\n'),
      );
    case 'annotation':
      return repair(
        `Annotate the KSA in its kubernetes_service_account (kubernetes_service_account_v1)`,
        [
          `resource "kubernetes_service_account" "${resourceName('_', link.namespace, link.ksa)}" {`,
          '  metadata {',
          `    name      = ${hcl(link.ksa)}`,
          `    namespace = ${hcl(link.namespace)}`,
          '    annotations = {',
          `      ${hcl(WI_ANNOTATION)} = ${hcl(link.gsa)}`,
          '    }',
          '  }',
          '}',
        ].join('\n'),
      );
    case 'gsa': {
      const accountId = accountIdOf(link.gsa);
      return repair(
        link.disabled
          ? `Keep the google_service_account enabled (disabled = false)`
          : `Keep the google_service_account in the configuration, so no apply deletes it again`,
        [
          `resource "google_service_account" "${resourceName('_', accountId)}" {`,
          `  account_id = ${hcl(accountId)}`,
          `  project    = ${hcl(link.project)}`,
          ...(link.disabled ? ['  disabled   = false'] : []),
          '}',
        ].join('\n'),
      );
    }
    case 'egress':
      return repair(
        `Allow egress to the GKE metadata server in ${link.namespace} (kubernetes_network_policy)`,
        [
          `resource "kubernetes_network_policy" "${resourceName('_', link.namespace, 'allow_gke_metadata_server')}" {`,
          '  metadata {',
          '    name      = "allow-gke-metadata-server"',
          `    namespace = ${hcl(link.namespace)}`,
          '  }',
          '  spec {',
          '    pod_selector {}',
          '    policy_types = ["Egress"]',
          '    egress {',
          '      to {',
          '        ip_block {',
          `          cidr = "${METADATA_IP}/32"`,
          '        }',
          '      }',
          ...METADATA_PORTS.flatMap((port) => [
            '      ports {',
            '        protocol = "TCP"',
            `        port     = "${port}"`,
            '      }',
          ]),
          '    }',
          '  }',
          '}',
        ].join('\n'),
      );
    case 'key-file':
      return {
        title: `Remove the env entry ${KEY_FILE_VARIABLE} from ${link.workload} in your Terraform configuration (kubernetes_deployment and the like)`,
        command: `grep -rn --include='*.tf' '${KEY_FILE_VARIABLE}' .`,
        tool: 'terraform',
        language: 'shell',
      };
    case 'grant':
      return {
        title: `Remove ${link.role} for ${link.member} from the google_*_iam_member or _iam_binding that grants it, then apply`,
        command: `grep -rn --include='*.tf' -e '${link.role}' -e '${link.member.replace(/^serviceAccount:/, '')}' .`,
        tool: 'terraform',
        language: 'shell',
      };
  }
}

/** A member's KSA (`ns_ksa`) for naming resources after it, else the member itself. */
function memberName(member: string): string {
  const classic = /\[([^/\]]+)\/([^\]]+)\]$/.exec(member) ?? /\/ns\/([^/]+)\/sa\/([^/]+)$/.exec(member);
  if (classic) return `${classic[1]}_${classic[2]}`;
  return /\/namespace\/([^/]+)$/.exec(member)?.[1] ?? member;
}

// ------------------------------------------------------------------------------------- manifests

/** A YAML string: JSON strings are valid YAML double-quoted scalars. */
const yaml = (value: string) => JSON.stringify(value);

function manifest(
  apiVersion: string,
  kind: string,
  name: string,
  namespace: string | undefined,
  body: string[],
): string {
  return [
    `apiVersion: ${apiVersion}`,
    `kind: ${kind}`,
    'metadata:',
    `  name: ${yaml(name)}`,
    ...(namespace ? [`  namespace: ${yaml(namespace)}`] : []),
    ...body,
  ].join('\n');
}

/** The KSA with its annotation, as kubectl (and any GitOps tool) applies it. */
function ksaManifest(namespace: string, ksa: string, gsa: string): string {
  return manifest('v1', 'ServiceAccount', ksa, namespace, [
    '  annotations:',
    `    ${WI_ANNOTATION}: ${yaml(gsa)}`,
  ]);
}

/** Kubernetes objects in a manifest for kubectl, when the tool does not manage them. */
function kubectlManifest(title: string, text: string): Remediation {
  return { title, command: text, tool: 'kubectl', language: 'yaml' };
}

/**
 * Config Connector resources (iam.cnrm.cloud.google.com, container.cnrm.cloud.google.com). An
 * IAMServiceAccount outside Config Connector is referenced by `external:
 * projects/PROJECT/serviceAccounts/EMAIL` (the IAMPolicyMember reference's external formats).
 * `namespace`: where Config Connector manages the project, when the delegation chain told it.
 */
export function configConnector(
  link: Link,
  writer: PolicyWriter = 'member',
  roleMembers: string[] = [],
  namespace?: string,
): Remediation {
  const repair = (title: string, command: string): Remediation => ({
    title,
    command,
    tool: 'config-connector',
    language: 'yaml',
  });
  switch (link.link) {
    case 'binding': {
      const reference = [
        '  resourceRef:',
        '    kind: IAMServiceAccount',
        `    external: ${yaml(serviceAccountId(link.project, link.gsa))}`,
      ];
      if (writer !== 'member') {
        const members = [...new Set([...roleMembers, link.member])].sort();
        return repair(
          `Add the member to the ${WI_USER_ROLE} binding of the IAMPolicy on ${link.gsa} (authoritative: an IAMPolicyMember beside it is removed at the next reconcile)`,
          manifest(
            'iam.cnrm.cloud.google.com/v1beta1',
            'IAMPolicy',
            resourceName('-', link.gsa, 'policy'),
            namespace,
            [
              'spec:',
              ...reference,
              '  bindings:',
              `  - role: ${WI_USER_ROLE}`,
              '    members:',
              ...members.map((m) => `    - ${yaml(m)}`),
            ],
          ),
        );
      }
      return repair(
        'Declare the binding as an IAMPolicyMember',
        manifest(
          'iam.cnrm.cloud.google.com/v1beta1',
          'IAMPolicyMember',
          resourceName('-', memberName(link.member), 'workload-identity'),
          namespace,
          ['spec:', `  member: ${yaml(link.member)}`, `  role: ${WI_USER_ROLE}`, ...reference],
        ),
      );
    }
    case 'pool':
      return repair(
        `Set nodeConfig.workloadMetadataConfig.mode on the ContainerNodePool ${link.pool}`,
        manifest('container.cnrm.cloud.google.com/v1beta1', 'ContainerNodePool', link.pool, namespace, [
          'spec:',
          `  location: ${yaml(link.cluster.location)}`,
          '  clusterRef:',
          `    name: ${yaml(link.cluster.name)}`,
          '  nodeConfig:',
          '    workloadMetadataConfig:',
          '      mode: GKE_METADATA',
        ]),
      );
    case 'cluster':
      return repair(
        `Set workloadIdentityConfig on the ContainerCluster ${link.cluster.name}`,
        manifest(
          'container.cnrm.cloud.google.com/v1beta1',
          'ContainerCluster',
          link.cluster.name,
          namespace,
          [
            'spec:',
            `  location: ${yaml(link.cluster.location)}`,
            '  workloadIdentityConfig:',
            `    workloadPool: ${yaml(link.workloadPool)}`,
          ],
        ),
      );
    case 'gsa': {
      const accountId = accountIdOf(link.gsa);
      return repair(
        link.disabled ? 'Keep the IAMServiceAccount enabled' : 'Keep the IAMServiceAccount in the manifests',
        manifest('iam.cnrm.cloud.google.com/v1beta1', 'IAMServiceAccount', accountId, namespace, [
          'spec:',
          ...(link.disabled ? ['  disabled: false'] : [`  displayName: ${yaml(accountId)}`]),
        ]),
      );
    }
    case 'grant':
      return {
        title: `Delete the IAMPolicyMember (or the member of the IAMPolicy / IAMPartialPolicy) that grants ${link.role}`,
        command: `kubectl get iampolicymembers,iampartialpolicies,iampolicies --all-namespaces -o yaml | grep -n -e '${link.role}' -e '${link.member}'`,
        tool: 'config-connector',
      };
    default:
      return kubernetesObject(link);
  }
}

/** The Kubernetes side, which Config Connector and Crossplane do not manage: kubectl's manifest. */
export function kubernetesObject(
  link: Extract<Link, { link: 'annotation' | 'egress' | 'key-file' }>,
): Remediation {
  switch (link.link) {
    case 'annotation':
      return kubectlManifest(
        `Annotate ${link.namespace}/${link.ksa} in the manifest that defines it (kubectl apply -f)`,
        ksaManifest(link.namespace, link.ksa, link.gsa),
      );
    case 'egress':
      return kubectlManifest(
        `Allow egress to the GKE metadata server in ${link.namespace} (kubectl apply -f)`,
        metadataEgressManifest(link.namespace),
      );
    case 'key-file':
      return {
        title: `Remove ${KEY_FILE_VARIABLE} from ${link.workload}'s pod template in the manifest that defines it`,
        command: `kubectl get ${link.workload.toLowerCase()} -n ${link.namespace} -o yaml | grep -n ${KEY_FILE_VARIABLE}`,
        tool: 'kubectl',
      };
  }
}

/**
 * Crossplane's upjet-built provider-gcp managed resources (cloudplatform.gcp.upbound.io,
 * container.gcp.upbound.io: crossplane-contrib/provider-upjet-gcp examples/).
 */
export function crossplane(
  link: Link,
  writer: PolicyWriter = 'member',
  roleMembers: string[] = [],
): Remediation {
  const repair = (title: string, command: string): Remediation => ({
    title,
    command,
    tool: 'crossplane',
    language: 'yaml',
  });
  switch (link.link) {
    case 'binding': {
      const authoritative = writer !== 'member';
      const members = [...new Set([...roleMembers, link.member])].sort();
      return repair(
        authoritative
          ? `Add the member to the ServiceAccountIAMBinding for ${WI_USER_ROLE} on ${link.gsa} (authoritative for the role)`
          : 'Declare the binding as a ServiceAccountIAMMember',
        manifest(
          'cloudplatform.gcp.upbound.io/v1beta2',
          authoritative ? 'ServiceAccountIAMBinding' : 'ServiceAccountIAMMember',
          resourceName('-', authoritative ? link.gsa : memberName(link.member), 'workload-identity'),
          undefined,
          [
            'spec:',
            '  forProvider:',
            `    serviceAccountId: ${yaml(serviceAccountId(link.project, link.gsa))}`,
            `    role: ${WI_USER_ROLE}`,
            ...(authoritative
              ? ['    members:', ...members.map((m) => `    - ${yaml(m)}`)]
              : [`    member: ${yaml(link.member)}`]),
          ],
        ),
      );
    }
    case 'pool':
      return repair(
        `Set forProvider.nodeConfig.workloadMetadataConfig.mode on the NodePool for ${link.pool}`,
        manifest('container.gcp.upbound.io/v1beta2', 'NodePool', link.pool, undefined, [
          'spec:',
          '  forProvider:',
          `    cluster: ${yaml(link.cluster.name)}`,
          `    location: ${yaml(link.cluster.location)}`,
          `    project: ${yaml(link.project)}`,
          '    nodeConfig:',
          '      workloadMetadataConfig:',
          '        mode: GKE_METADATA',
        ]),
      );
    case 'cluster':
      return repair(
        `Set forProvider.workloadIdentityConfig on the Cluster ${link.cluster.name}`,
        manifest('container.gcp.upbound.io/v1beta2', 'Cluster', link.cluster.name, undefined, [
          'spec:',
          '  forProvider:',
          `    location: ${yaml(link.cluster.location)}`,
          `    project: ${yaml(link.project)}`,
          '    workloadIdentityConfig:',
          `      workloadPool: ${yaml(link.workloadPool)}`,
        ]),
      );
    case 'gsa': {
      const accountId = accountIdOf(link.gsa);
      return repair(
        link.disabled ? 'Keep the ServiceAccount enabled' : 'Keep the ServiceAccount managed resource',
        manifest('cloudplatform.gcp.upbound.io/v1beta1', 'ServiceAccount', accountId, undefined, [
          'spec:',
          '  forProvider:',
          `    project: ${yaml(link.project)}`,
          ...(link.disabled ? ['    disabled: false'] : []),
        ]),
      );
    }
    case 'grant':
      return {
        title: `Delete the managed resource that grants ${link.role} to ${link.member}`,
        command: `kubectl get managed -o yaml | grep -n -e '${link.role}' -e '${link.member}'`,
        tool: 'crossplane',
      };
    default:
      return kubernetesObject(link);
  }
}

// ----------------------------------------------------------------------------------- Pulumi (TS)

const ts = (value: string) => JSON.stringify(value);

/** pulumi-gcp and pulumi-kubernetes resources, as a TypeScript program declares them. */
export function pulumi(link: Link, writer: PolicyWriter = 'member', roleMembers: string[] = []): Remediation {
  const repair = (title: string, command: string): Remediation => ({
    title,
    command,
    tool: 'pulumi',
    language: 'typescript',
  });
  switch (link.link) {
    case 'binding': {
      const id = ts(serviceAccountId(link.project, link.gsa));
      if (writer !== 'member') {
        const members = [...new Set([...roleMembers, link.member])].sort();
        return repair(
          writer === 'role'
            ? `Add the member to the gcp.serviceaccount.IAMBinding for ${WI_USER_ROLE} on ${link.gsa} (authoritative for the role)`
            : `Add the binding to the policy data of the gcp.serviceaccount.IAMPolicy on ${link.gsa} (keep its other bindings)`,
          [
            `new gcp.serviceaccount.IAMBinding(${ts(resourceName('-', link.gsa, 'workload-identity'))}, {`,
            `  serviceAccountId: ${id},`,
            `  role: ${ts(WI_USER_ROLE)},`,
            `  members: [${members.map(ts).join(', ')}],`,
            '});',
          ].join('\n'),
        );
      }
      return repair(
        'Declare the binding (gcp.serviceaccount.IAMMember), then pulumi up',
        [
          `new gcp.serviceaccount.IAMMember(${ts(resourceName('-', memberName(link.member), 'workload-identity'))}, {`,
          `  serviceAccountId: ${id},`,
          `  role: ${ts(WI_USER_ROLE)},`,
          `  member: ${ts(link.member)},`,
          '});',
        ].join('\n'),
      );
    }
    case 'pool':
      return repair(
        `Set nodeConfig.workloadMetadataConfig on the gcp.container.NodePool for ${link.pool}`,
        [
          `new gcp.container.NodePool(${ts(link.pool)}, {`,
          `  name: ${ts(link.pool)},`,
          `  cluster: ${ts(link.cluster.name)},`,
          `  location: ${ts(link.cluster.location)},`,
          `  project: ${ts(link.project)},`,
          '  nodeConfig: { workloadMetadataConfig: { mode: "GKE_METADATA" } },',
          '});',
        ].join('\n'),
      );
    case 'cluster':
      return repair(
        `Set workloadIdentityConfig on the gcp.container.Cluster ${link.cluster.name}`,
        [
          `new gcp.container.Cluster(${ts(link.cluster.name)}, {`,
          `  name: ${ts(link.cluster.name)},`,
          `  location: ${ts(link.cluster.location)},`,
          `  project: ${ts(link.project)},`,
          `  workloadIdentityConfig: { workloadPool: ${ts(link.workloadPool)} },`,
          '});',
        ].join('\n'),
      );
    case 'annotation':
      return repair(
        `Annotate the k8s.core.v1.ServiceAccount ${link.namespace}/${link.ksa}`,
        [
          `new k8s.core.v1.ServiceAccount(${ts(resourceName('-', link.namespace, link.ksa))}, {`,
          '  metadata: {',
          `    name: ${ts(link.ksa)},`,
          `    namespace: ${ts(link.namespace)},`,
          `    annotations: { ${ts(WI_ANNOTATION)}: ${ts(link.gsa)} },`,
          '  },',
          '});',
        ].join('\n'),
      );
    case 'gsa': {
      const accountId = accountIdOf(link.gsa);
      return repair(
        link.disabled
          ? 'Keep the gcp.serviceaccount.Account enabled'
          : 'Keep the gcp.serviceaccount.Account in the program',
        [
          `new gcp.serviceaccount.Account(${ts(accountId)}, {`,
          `  accountId: ${ts(accountId)},`,
          `  project: ${ts(link.project)},`,
          ...(link.disabled ? ['  disabled: false,'] : []),
          '});',
        ].join('\n'),
      );
    }
    case 'egress':
      return repair(
        `Allow egress to the GKE metadata server in ${link.namespace} (k8s.networking.v1.NetworkPolicy)`,
        [
          `new k8s.networking.v1.NetworkPolicy(${ts(resourceName('-', link.namespace, 'allow-gke-metadata-server'))}, {`,
          `  metadata: { name: "allow-gke-metadata-server", namespace: ${ts(link.namespace)} },`,
          '  spec: {',
          '    podSelector: {},',
          '    policyTypes: ["Egress"],',
          '    egress: [{',
          `      to: [{ ipBlock: { cidr: "${METADATA_IP}/32" } }],`,
          `      ports: [${METADATA_PORTS.map((port) => `{ protocol: "TCP", port: ${port} }`).join(', ')}],`,
          '    }],',
          '  },',
          '});',
        ].join('\n'),
      );
    case 'key-file':
      return {
        title: `Remove ${KEY_FILE_VARIABLE} from ${link.workload}'s containers in the Pulumi program`,
        command: `grep -rn '${KEY_FILE_VARIABLE}' .`,
        tool: 'pulumi',
      };
    case 'grant':
      return {
        title: `Remove the resource that grants ${link.role} to ${link.member} from the Pulumi program, then pulumi up`,
        command: `grep -rn -e '${link.role}' -e '${link.member.replace(/^serviceAccount:/, '')}' .`,
        tool: 'pulumi',
      };
  }
}
