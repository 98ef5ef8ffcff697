import type { Config } from '../config.ts';
import { auditSinkFilter } from '../events/sink-filter.ts';
import { CLOUD_PLATFORM_SCOPE, type TokenSource, tokenSourceFromConfig } from '../gcp/auth.ts';
import { createGoogleHttp } from '../gcp/http.ts';
import { createIamPort } from '../gcp/iam.ts';
import { createLoggingPort } from '../gcp/logging.ts';
import { createPermissionsPort } from '../gcp/permissions.ts';
import { createTopicIamPort } from '../gcp/pubsub-iam.ts';
import type { RetryHooks, RetryPolicy } from '../gcp/retry.ts';
import { type SelfCheckPorts, type SelfCheckTarget, sinkNamesOf, topicNameOf } from './checks.ts';

/**
 * The self-checks' ports on Google's APIs (Cloud Logging, Pub/Sub, Resource Manager), built from the
 * environment. Importing this loads no client library: each adapter loads its own on first use.
 */
export interface SelfCheckAdapterOptions {
  tokens: TokenSource;
  loggingUrl?: string;
  pubsubUrl?: string;
  resourceManagerUrl?: string;
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
  };
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
    ...overrides,
  });
}

/**
 * What the self-checks watch, from the environment: WI_SINK (a bare name: that sink in each watched
 * project), WI_AUDIT_TOPIC, WI_PROJECTS (default: GOOGLE_CLOUD_PROJECT), the generated audit filter.
 */
export function selfCheckTargetFromConfig(config: Config, identity?: string): SelfCheckTarget {
  const projects = config.WI_PROJECTS ?? (config.GOOGLE_CLOUD_PROJECT ? [config.GOOGLE_CLOUD_PROJECT] : []);
  return {
    sinks: sinkNamesOf(config.WI_SINK, projects),
    topic: topicNameOf(config.WI_AUDIT_TOPIC, config.GOOGLE_CLOUD_PROJECT),
    projects,
    filter: auditSinkFilter(),
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
