/**
 * Which tool made a change, told from what the audit entry records: the caller-supplied user agent,
 * the principal, and the chain of principals that delegated to it. Pure and cheap: it runs only for
 * entries that gave a finding. The user-agent formats come from each tool's public source; each is
 * cited beside its pattern and has a fixture in test/fixtures/attribution/ (README.md lists them).
 * An agent no pattern knows is shown as it is, never guessed.
 */

export const TOOLS = [
  'terraform',
  'opentofu',
  'pulumi',
  'config-connector',
  'crossplane',
  'deployment-manager',
  'gcloud',
  'console',
  'client-library',
  'kubernetes-client',
  'gke',
  'service-agent',
  'kubernetes',
  'unknown',
] as const;

export type Tool = (typeof TOOLS)[number];

export interface Attribution {
  tool: Tool;
  /** For people: "Terraform or OpenTofu 1.9.8 (terraform-provider-google 6.12.0)". */
  label: string;
  /** The tool's own version (Terraform core, gcloud, Config Connector, Pulumi's provider …). */
  version?: string;
  /** The plugin that made the call: `terraform-provider-google 6.12.0`, `pulumi-gcp 8.10.0`. */
  plugin?: string;
  /** Attribution a module or blueprint adds (Terraform `provider_meta` module_name, KCC blueprint). */
  module?: string;
  /** gcloud's command, as typed: `gcloud iam service-accounts remove-iam-policy-binding`. */
  command?: string;
  /** Config Connector in namespaced mode: the namespace whose controller made the change. */
  namespace?: string;
  /** Whether a person acted, when the principal says so (false: Google or Kubernetes itself). */
  person?: boolean;
}

export interface AttributionInput {
  userAgent?: string | undefined;
  /** principalEmail, or the principal subject without its `user:` / `serviceAccount:` prefix. */
  actor?: string | undefined;
  /** Who delegated to the actor, the original principal first (serviceAccountDelegationInfo). */
  delegation?: readonly string[] | undefined;
}

/** The tool behind a change, or undefined when the entry records nothing to tell it by. */
export function attribute(input: AttributionInput): Attribution | undefined {
  const agent = cleanAgent(input.userAgent);
  const byPrincipal = fromPrincipal(input.actor, agent);
  if (byPrincipal) return byPrincipal;
  if (agent === '') return undefined;
  const fromAgent = AGENT_RULES.map((rule) => rule(agent)).find((found) => found !== undefined);
  const found = fromAgent ?? {
    tool: 'unknown' as const,
    label: `an agent wi-sentinel does not know, "${shorten(agent, 160)}"`,
  };
  const namespace = found.tool === 'config-connector' ? kccNamespace(input.delegation) : undefined;
  return namespace ? { ...found, namespace, label: `${found.label}, namespace ${namespace}` } : found;
}

/**
 * The Google Front End appends `,gzip(gfe)` (once per hop) and some HTTP stacks ` (gzip)`: they say
 * nothing about the caller (see /work/shared/fixtures/public A-3, C-1, E-4 for real entries).
 */
function cleanAgent(agent: string | undefined): string {
  return (agent ?? '')
    .replace(/(?:,gzip\(gfe\))+$/, '')
    .replace(/ \(gzip\)$/, '')
    .trim();
}

// ------------------------------------------------------------------------------------ principals

/**
 * Google's own service agents: https://cloud.google.com/iam/docs/service-agents. GKE's
 * (`service-N@container-engine-robot…`) changes pools and clusters itself (upgrades, repairs);
 * Deployment Manager calls APIs as the Google APIs service agent (`N@cloudservices…`).
 */
function fromPrincipal(actor: string | undefined, agent: string): Attribution | undefined {
  if (actor === undefined) return undefined;
  if (/^service-\d+@container-engine-robot\.iam\.gserviceaccount\.com$/.test(actor)) {
    return {
      tool: 'gke',
      label: 'GKE itself (the Kubernetes Engine service agent, not a person)',
      person: false,
    };
  }
  if (/^\d+@cloudservices\.gserviceaccount\.com$/.test(actor)) {
    return {
      tool: 'deployment-manager',
      label: 'Deployment Manager (as the Google APIs service agent)',
      person: false,
    };
  }
  const agentOf = /^service-\d+@(?:gcp-sa-)?([a-z0-9-]+)\.iam\.gserviceaccount\.com$/.exec(actor);
  if (agentOf || actor.endsWith('@system.gserviceaccount.com')) {
    const service = agentOf?.[1] ?? actor.split('@')[0];
    return {
      tool: 'service-agent',
      label: `a Google service agent (${service}), not a person`,
      person: false,
    };
  }
  // Kubernetes' own components (GKE's control plane, the controllers in kube-system): `system:…`, but
  // not a workload's KSA.
  const component =
    actor.startsWith('system:serviceaccount:kube-system:') ||
    (actor.startsWith('system:') && !actor.startsWith('system:serviceaccount:'));
  if (component) {
    const component = agent ? kubernetesClient(agent)?.version : undefined;
    return {
      tool: 'kubernetes',
      label: `Kubernetes itself (${actor}${component ? `, ${component}` : ''}), not a person`,
      person: false,
    };
  }
  return undefined;
}

/**
 * Config Connector in namespaced mode runs one controller per namespace as the KSA
 * `cnrm-system/cnrm-controller-manager-NAMESPACE`, which Workload Identity shows in the delegation
 * chain as `serviceAccount:POOL[cnrm-system/cnrm-controller-manager-NAMESPACE]`
 * (https://cloud.google.com/config-connector/docs/how-to/install-namespaced).
 */
function kccNamespace(delegation: readonly string[] | undefined): string | undefined {
  for (const principal of delegation ?? []) {
    const match = /\[cnrm-system\/cnrm-controller-manager-([a-z0-9-]+)\]$/.exec(principal);
    if (match?.[1]) return match[1];
  }
  return undefined;
}

// ---------------------------------------------------------------------------------- user agents

type Rule = (agent: string) => Attribution | undefined;

/** First match wins: the tools first, then the libraries they are built on. */
const AGENT_RULES: Rule[] = [
  pulumi,
  configConnector,
  terraform,
  gcloud,
  cloudConsole,
  kubernetesTerraform,
  helm,
  kubernetesClientTool,
  clientLibrary,
];

/**
 * pulumi-gcp replaces the provider's user agent: `Pulumi/3.0 (GPN:Pulumi; https://www.pulumi.com)
 * pulumi-gcp/VERSION` (pulumi/pulumi-gcp patches/0001-Allow-disabling-the-partner-name.patch). Its
 * Plugin Framework resources report the bridge as Terraform core `1.0.0+pulumi-terraform-bridge`
 * (pulumi/pulumi-terraform-bridge pkg/pf/tfbridge/provider_configure.go).
 */
function pulumi(agent: string): Attribution | undefined {
  const classic = /\bPulumi\/(\S+) \([^)]*\) pulumi-gcp\/(\S+)/.exec(agent);
  if (classic) {
    return {
      tool: 'pulumi',
      label: `Pulumi (pulumi-gcp ${classic[2]})`,
      version: classic[1] as string,
      plugin: `pulumi-gcp ${classic[2]}`,
    };
  }
  if (/\bTerraform\/[^ ]*\+pulumi-terraform-bridge\b/.test(agent)) {
    const provider = providerOf(agent);
    return {
      tool: 'pulumi',
      label: `Pulumi${provider ? ` (${provider})` : ''}`,
      ...(provider ? { plugin: provider } : {}),
    };
  }
  return undefined;
}

/**
 * Config Connector: `kcc/VERSION (+https://github.com/GoogleCloudPlatform/k8s-config-connector)
 * kcc/controller-manager/VERSION` (k8s-config-connector pkg/gcp/clients.go KCCUserAgent), older
 * releases `kcc/controller-manager`; a `cnrm.cloud.google.com/blueprint` annotation adds
 * `blueprints/NAME` (pkg/dcl/clientconfig tests).
 */
function configConnector(agent: string): Attribution | undefined {
  const match = /\bkcc\/(controller-manager|[0-9][^ ]*)/.exec(agent);
  if (!match) return undefined;
  const version = match[1] === 'controller-manager' ? undefined : match[1];
  const blueprint = /\bblueprints\/(\S+)/.exec(agent)?.[1];
  return {
    tool: 'config-connector',
    label: `Config Connector${version ? ` ${version}` : ''}${blueprint ? `, blueprint ${blueprint}` : ''}`,
    ...(version ? { version } : {}),
    ...(blueprint ? { module: `blueprints/${blueprint}` } : {}),
  };
}

/** `terraform-provider-google/6.12.0` (or `-beta`, or another provider), as `terraform-provider-google 6.12.0`. */
function providerOf(agent: string): string | undefined {
  const match = /\b(terraform-provider-[\w-]+)\/(\S+)/.exec(agent);
  return match ? `${match[1]} ${match[2]}` : undefined;
}

/** OpenTofu forked from Terraform 1.5; every Terraform release before 1.6 is Terraform. */
function beforeOpenTofu(version: string): boolean {
  const [major = 0, minor = 0] = version.replace(/^v/, '').split('.').map(Number);
  return major === 0 || (major === 1 && minor < 6);
}

/**
 * terraform-provider-google: `Terraform/CORE (+https://www.terraform.io) Terraform-Plugin-SDK/SDK
 * terraform-provider-google/VERSION` (terraform-plugin-sdk helper/schema/provider.go UserAgent; the
 * Plugin Framework half writes `Terraform-Plugin-SDK/terraform-plugin-framework`,
 * google/fwtransport/framework_utils.go), Go's REST client prefixing `google-api-go-client/0.5`.
 * Then `GOOGLE_TERRAFORM_USERAGENT_EXTENSION` (crossplane's upjet sets `upbound-provider-gcp/VERSION`,
 * provider-upjet-gcp cluster/images/provider-gcp/Dockerfile), and last a module's `provider_meta`
 * `module_name` (tpgresource GenerateUserAgentString joins it with a space).
 * OpenTofu runs the same provider, which reports OpenTofu's version as `Terraform/…`: from 1.6 on the
 * two cannot be told apart (opentofu/opentofu#4542), unless an `OpenTofu/VERSION` product is appended.
 */
function terraform(agent: string): Attribution | undefined {
  const match = /\bTerraform\/(\S*) \(\+https:\/\/www\.terraform\.io\) Terraform-Plugin-SDK\/\S+(.*)$/.exec(
    agent,
  );
  if (!match) return undefined;
  const core = match[1] as string;
  const provider = providerOf(agent);
  const extras = (match[2] ?? '')
    .trim()
    .split(/\s+/)
    .filter((token) => token !== '' && !/^terraform-provider-[\w-]+\//.test(token));
  const crossplane = extras.find((token) => /^upbound-provider-gcp\//.test(token));
  const tofu = extras.find((token) => /^OpenTofu\//i.test(token));
  const module = extras.filter((token) => token !== crossplane && token !== tofu).at(-1);
  const plugin = provider ? { plugin: provider } : {};
  const withModule = module ? { module } : {};
  const moduleWords = module ? `, module ${module}` : '';
  if (crossplane) {
    const version = crossplane.split('/')[1] ?? '';
    return {
      tool: 'crossplane',
      label: `Crossplane (provider-upjet-gcp ${version}${provider ? `, ${provider}` : ''})`,
      version,
      ...plugin,
    };
  }
  if (tofu) {
    const version = tofu.split('/')[1] ?? core;
    return {
      tool: 'opentofu',
      label: `OpenTofu ${version}${provider ? ` (${provider}${moduleWords})` : ''}`,
      version,
      ...plugin,
      ...withModule,
    };
  }
  // Without a core version the provider was configured by a program, not by Terraform's CLI.
  const name =
    core === ''
      ? 'terraform-provider-google without Terraform core'
      : beforeOpenTofu(core)
        ? `Terraform ${core}`
        : `Terraform or OpenTofu ${core}`;
  return {
    tool: 'terraform',
    label: `${name}${provider && core !== '' ? ` (${provider}${moduleWords})` : moduleWords}`,
    ...(core ? { version: core } : {}),
    ...plugin,
    ...withModule,
  };
}

/**
 * gcloud: `gcloud/VERSION command/gcloud.GROUP.COMMAND invocation-id/… environment/ENV …`
 * (google-cloud-sdk googlecloudsdk/core/transport.py MakeUserAgentString), `google-cloud-sdk` before
 * it; `environment/devshell` is Cloud Shell. Older releases wrote only `google-cloud-sdkVERSION`.
 */
function gcloud(agent: string): Attribution | undefined {
  const modern = /\bgcloud\/(\S+)/.exec(agent);
  // Some releases and wrappers leave `command/` out: still gcloud, the command unknown.
  if (modern) {
    const path = /\bcommand\/(\S+)/.exec(agent)?.[1];
    const command = path && path !== 'None' ? path.replace(/\./g, ' ') : undefined;
    const shell = /\benvironment\/devshell\b/.test(agent) ? ' in Cloud Shell' : '';
    return {
      tool: 'gcloud',
      label: `gcloud ${modern[1]}${shell}${command ? ` (${command})` : ''}`,
      version: modern[1] as string,
      ...(command ? { command } : {}),
    };
  }
  const legacy = /^google-cloud-sdk ?(\d[\d.]*)/.exec(agent);
  if (legacy) {
    return {
      tool: 'gcloud',
      label: `Cloud SDK ${legacy[1]} (no command recorded)`,
      version: legacy[1] as string,
    };
  }
  return undefined;
}

/**
 * The Cloud Console: `GoogleCloudConsole` for its own calls, the browser's agent (`Mozilla/5.0 …`)
 * for requests it lets the browser make (see /work/shared/fixtures/public D-3 and A-1).
 */
function cloudConsole(agent: string): Attribution | undefined {
  if (agent.startsWith('GoogleCloudConsole')) return { tool: 'console', label: 'the Cloud Console' };
  if (!agent.startsWith('Mozilla/5.0')) return undefined;
  // Edge and Chrome both say Chrome; Edge adds Edg/.
  const browsers: [RegExp, string][] = [
    [/\bEdg\/(\d+)/, 'Edge'],
    [/\bFirefox\/(\d+)/, 'Firefox'],
    [/\bChrome\/(\d+)/, 'Chrome'],
    [/\bVersion\/(\d+)[^ ]* Safari\//, 'Safari'],
  ];
  const browser = browsers
    .map(([pattern, name]) => {
      const version = pattern.exec(agent)?.[1];
      return version ? `${name} ${version}` : undefined;
    })
    .find(Boolean);
  return { tool: 'console', label: `the Cloud Console (${browser ?? 'a browser'})` };
}

/**
 * terraform-provider-kubernetes (and its kubectl cousins) call the Kubernetes API as
 * `HashiCorp/1.0 Terraform/CORE` (hashicorp/terraform-provider-kubernetes kubernetes/provider.go).
 */
function kubernetesTerraform(agent: string): Attribution | undefined {
  const match = /^HashiCorp\/1\.0 Terraform\/(\S*)/.exec(agent);
  if (!match) return undefined;
  const core = match[1] ?? '';
  const name = core === '' || !beforeOpenTofu(core) ? `Terraform or OpenTofu ${core}` : `Terraform ${core}`;
  return {
    tool: 'terraform',
    label: `${name.trim()} (terraform-provider-kubernetes)`,
    ...(core ? { version: core } : {}),
    plugin: 'terraform-provider-kubernetes',
  };
}

/** Helm's Kubernetes client: `Helm/VERSION` (helm/helm pkg/kube/client.go). */
function helm(agent: string): Attribution | undefined {
  const match = /^Helm\/(\S+)/.exec(agent);
  return match
    ? { tool: 'kubernetes-client', label: `Helm ${match[1]}`, version: match[1] as string }
    : undefined;
}

/**
 * client-go's default: `COMMAND/VERSION (OS/ARCH) kubernetes/COMMIT`, the command being the
 * program's name (kubernetes/client-go rest/config.go DefaultKubernetesUserAgent); kubectl and the
 * controllers of Argo CD and Flux all say who they are this way.
 */
function kubernetesClient(agent: string): { name: string; version: string } | undefined {
  const match = /^([\w.-]+)\/(\S+) \([\w-]+\/[\w-]+\) kubernetes\/\S+/.exec(agent);
  return match ? { name: match[1] as string, version: `${match[1]} ${match[2]}` } : undefined;
}

function kubernetesClientTool(agent: string): Attribution | undefined {
  const client = kubernetesClient(agent);
  if (client === undefined) return undefined;
  const known = client.name.startsWith('argocd-')
    ? `Argo CD (${client.name})`
    : /^(kustomize|helm|source|notification|image-automation)-controller$/.test(client.name)
      ? `Flux (${client.name})`
      : client.version;
  return { tool: 'kubernetes-client', label: known };
}

const LANGUAGES: Record<string, string> = {
  node: 'Node.js',
  nodejs: 'Node.js',
  python: 'Python',
  go: 'Go',
  golang: 'Go',
  java: 'Java',
  dotnet: '.NET',
  ruby: 'Ruby',
  php: 'PHP',
};

/**
 * Google's client libraries: `google-api-go-client/0.5` (google-api-go-client gensupport),
 * `google-api-nodejs-client/V`, `google-api-python-client/V`, `Google-API-Java-Client/V`, the Cloud
 * libraries' `gcloud-node-storage/V`-style products (googleapis/gcloud-mcp#407 shows one in an audit
 * entry) and `gl-LANG/V … gccl/V` metadata, gRPC's `grpc-LANG/V`. An application's own product in
 * front is kept: it names the program better than the library does.
 */
function clientLibrary(agent: string): Attribution | undefined {
  const patterns: [RegExp, (m: RegExpExecArray) => string][] = [
    [
      /\bgoogle-api-([a-z]+)-client\/(\S+)/i,
      (m) => LANGUAGES[(m[1] as string).toLowerCase()] ?? (m[1] as string),
    ],
    [
      /\bgcloud-(node|python|golang|java|ruby|php|dotnet)(?:-[\w-]+)?\/(\S+)/,
      (m) => LANGUAGES[m[1] as string] ?? (m[1] as string),
    ],
    [/\bgl-([a-z]+)\/(\S+)/, (m) => LANGUAGES[m[1] as string] ?? (m[1] as string)],
    [/\bgrpc-([a-z]+)(?:-[\w-]+)?\/(\S+)/, (m) => LANGUAGES[m[1] as string] ?? (m[1] as string)],
  ];
  for (const [pattern, language] of patterns) {
    const match = pattern.exec(agent);
    if (!match) continue;
    const library = match[0].replace('/', ' ');
    const first = agent.split(/\s+/)[0] ?? '';
    const program = agent.startsWith(match[0]) || first === '' ? '' : `, from ${shorten(first, 60)}`;
    return { tool: 'client-library', label: `a ${language(match)} client library (${library}${program})` };
  }
  return undefined;
}

function shorten(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

// ---------------------------------------------------------------------------------- for people

/**
 * "via Terraform 1.5.7 (terraform-provider-google 5.22.0), run as deployer@… (impersonated by
 * alice@…)": the tool, then who ran it. Without a tool: "by alice@…".
 */
export function describeActor(cause: {
  actor?: string;
  via?: Attribution;
  delegation?: readonly string[];
}): string {
  const chain =
    cause.delegation && cause.delegation.length > 0 ? ` (${delegationWords(cause.delegation)})` : '';
  const who = cause.actor ? `${cause.actor}${chain}` : undefined;
  if (cause.via === undefined) return who ? `by ${who}` : 'by an unknown actor';
  if (cause.via.person === false)
    return `by ${cause.via.label}${who && !cause.via.label.includes(who) ? ` as ${who}` : ''}`;
  return `via ${cause.via.label}${who ? `, run as ${who}` : ''}`;
}

/** The delegation chain, the original principal first: "impersonated by alice@…". */
export function delegationWords(delegation: readonly string[]): string {
  return `impersonated by ${delegation.map(principalWords).join(' through ')}`;
}

/** A federated principal as people read it: the subject and its pool, not the whole URI. */
export function principalWords(principal: string): string {
  const federated = /workloadIdentityPools\/([^/]+)\/subject\/(.+)$/.exec(principal);
  if (federated) return `${federated[2]} (workload identity pool ${federated[1]})`;
  return principal.replace(/^(user|serviceAccount|principal):/, '');
}
