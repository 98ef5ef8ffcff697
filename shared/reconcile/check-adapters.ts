import type { Config } from '../config.ts';
import { auditSinkFilter } from '../events/sink-filter.ts';
import { CLOUD_PLATFORM_SCOPE, type TokenSource, tokenSourceFromConfig } from '../gcp/auth.ts';
import { createFunctionsPort } from '../gcp/functions.ts';
import { createGoogleHttp } from '../gcp/http.ts';
import { createIamPort } from '../gcp/iam.ts';
import { impersonatedTokenSource } from '../gcp/impersonation.ts';
import { createLoggingPort } from '../gcp/logging.ts';
import { createMetricDescriptorPort } from '../gcp/monitoring.ts';
import { createPermissionsPort } from '../gcp/permissions.ts';
import { createTopicIamPort } from '../gcp/pubsub-iam.ts';
import { createPubSubResourcesPort } from '../gcp/pubsub-resources.ts';
import type { RetryHooks, RetryPolicy } from '../gcp/retry.ts';
import { createSchedulerPort } from '../gcp/scheduler.ts';
import { createSecretMetadataPort } from '../gcp/secrets.ts';
import { workloadSinkFilter } from '../symptoms/filter.ts';
import { type SelfCheckPorts, type SelfCheckTarget, sinkNamesOf, topicNameOf } from './checks.ts';
import type { DeploymentPorts } from './deployment-checks.ts';

/**
 * The self-checks' ports on Google's APIs (Cloud Logging, Pub/Sub, Resource Manager, Monitoring),
 * built from the environment. Importing this loads no client library: each adapter loads its own on
 * first use.
 */
export interface SelfCheckAdapterOptions {
  tokens: TokenSource;
  loggingUrl?: string;
  pubsubUrl?: string;
  resourceManagerUrl?: string;
  monitoringUrl?: string;
  /** Per request, ms. */
  timeoutMs?: number;
  retry?: RetryPolicy;
  hooks?: RetryHooks;
}

export function createSelfCheckPorts(options: SelfCheckAdapterOptions): SelfCheckPorts {
  const { tokens } = options;
  const common = {
    ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
    ...(options.retry ? { retry: options.retry } : {}),
    ...(options.hooks ? { hooks: options.hooks } : {}),
  };
  const http = createGoogleHttp({ tokens, ...common });
  const resourceManager = options.resourceManagerUrl
    ? { resourceManagerUrl: options.resourceManagerUrl }
    : {};
  const iam = createIamPort({ http, ...resourceManager });
  return {
    logging: createLoggingPort({
      tokens,
      http,
      ...common,
      ...(options.loggingUrl ? { apiUrl: options.loggingUrl } : {}),
    }),
    topics: createTopicIamPort({
      tokens,
      ...common,
      ...(options.pubsubUrl ? { apiUrl: options.pubsubUrl } : {}),
    }),
    permissions: createPermissionsPort({ http, ...resourceManager }),
    projectPolicy: (project) => iam.getProjectPolicy(project),
    metrics: createMetricDescriptorPort({
      http,
      ...(options.monitoringUrl ? { apiUrl: options.monitoringUrl } : {}),
    }),
  };
}

export interface DeploymentAdapterOptions extends SelfCheckAdapterOptions {
  functionsUrl?: string;
  schedulerUrl?: string;
  secretManagerUrl?: string;
  iamCredentialsUrl?: string;
}

/**
 * doctor's ports: the self-checks' and the deployment's (Cloud Functions, Cloud Scheduler, Secret
 * Manager metadata, Pub/Sub resources, impersonation for testIamPermissions), all plain REST requests
 * with the caller's tokens but Cloud Logging's sink read and the topic policy (as the sweep's).
 */
export function createDoctorPorts(options: DeploymentAdapterOptions): SelfCheckPorts & DeploymentPorts {
  const common = {
    ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
    ...(options.retry ? { retry: options.retry } : {}),
    ...(options.hooks ? { hooks: options.hooks } : {}),
  };
  const http = createGoogleHttp({ tokens: options.tokens, ...common });
  const resourceManager = options.resourceManagerUrl
    ? { resourceManagerUrl: options.resourceManagerUrl }
    : {};
  return {
    ...createSelfCheckPorts(options),
    functions: createFunctionsPort({
      http,
      ...(options.functionsUrl ? { apiUrl: options.functionsUrl } : {}),
    }),
    scheduler: createSchedulerPort({
      http,
      ...(options.schedulerUrl ? { apiUrl: options.schedulerUrl } : {}),
    }),
    secrets: createSecretMetadataPort({
      http,
      ...(options.secretManagerUrl ? { apiUrl: options.secretManagerUrl } : {}),
    }),
    pubsub: createPubSubResourcesPort({ http, ...(options.pubsubUrl ? { apiUrl: options.pubsubUrl } : {}) }),
    permissionsAs: (email) =>
      createPermissionsPort({
        http: createGoogleHttp({
          tokens: impersonatedTokenSource(http, email, options.iamCredentialsUrl),
          ...common,
        }),
        ...resourceManager,
      }),
  };
}

export function doctorPortsFromConfig(config: Config): SelfCheckPorts & DeploymentPorts {
  return createDoctorPorts({
    tokens: tokenSourceFromConfig(config),
    loggingUrl: config.LOGGING_API_URL,
    pubsubUrl: config.PUBSUB_API_URL,
    resourceManagerUrl: config.RESOURCE_MANAGER_API_URL,
    monitoringUrl: config.MONITORING_API_URL,
    functionsUrl: config.CLOUD_FUNCTIONS_API_URL,
    schedulerUrl: config.CLOUD_SCHEDULER_API_URL,
    secretManagerUrl: config.SECRET_MANAGER_API_URL,
    iamCredentialsUrl: config.IAM_CREDENTIALS_API_URL,
  });
}

export function selfCheckPortsFromConfig(
  config: Config,
  overrides: Partial<SelfCheckAdapterOptions> = {},
): SelfCheckPorts {
  return createSelfCheckPorts({
    tokens: tokenSourceFromConfig(config),
    loggingUrl: config.LOGGING_API_URL,
    pubsubUrl: config.PUBSUB_API_URL,
    resourceManagerUrl: config.RESOURCE_MANAGER_API_URL,
    monitoringUrl: config.MONITORING_API_URL,
    ...overrides,
  });
}

/**
 * What the self-checks watch, from the environment: WI_SINK (a bare name: that sink in each watched
 * project), WI_WORKLOAD_SINK likewise (when set), WI_AUDIT_TOPIC, WI_PROJECTS (default:
 * GOOGLE_CLOUD_PROJECT), and the filters the code generates for them.
 */
export function selfCheckTargetFromConfig(config: Config, identity?: string): SelfCheckTarget {
  const projects = config.WI_PROJECTS ?? (config.GOOGLE_CLOUD_PROJECT ? [config.GOOGLE_CLOUD_PROJECT] : []);
  const workload = config.WI_WORKLOAD_SINK;
  return {
    sinks: sinkNamesOf(config.WI_SINK, projects),
    topic: topicNameOf(config.WI_AUDIT_TOPIC, config.GOOGLE_CLOUD_PROJECT),
    projects,
    filter: auditSinkFilter(),
    ...(workload
      ? { workload: { sinks: sinkNamesOf(workload, projects), filter: workloadSinkFilter() } }
      : {}),
    ...(identity ? { identity } : {}),
  };
}

/**
 * The service account wi-sentinel runs as, from Application Default Credentials (a key file names
 * it; on Cloud Functions the metadata server does), for repair commands that grant it what it lacks.
 * `undefined` when it cannot be told (an access token given as it is, no credentials): the commands
 * then say to re-apply the Terraform module instead.
 */
export async function ownIdentity(
  config: Pick<Config, 'GOOGLE_OAUTH_ACCESS_TOKEN'>,
): Promise<string | undefined> {
  if (config.GOOGLE_OAUTH_ACCESS_TOKEN) return undefined;
  try {
    const { GoogleAuth } = await import('google-auth-library');
    const credentials = await new GoogleAuth({ scopes: [CLOUD_PLATFORM_SCOPE] }).getCredentials();
    return credentials.client_email ?? undefined;
  } catch {
    return undefined;
  }
}
