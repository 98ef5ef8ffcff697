import type { Remediation } from '../domain/finding.ts';
import { LookupError } from '../errors.ts';
import type { FunctionInfo, FunctionsPort } from '../gcp/functions.ts';
import { type PermissionsPort, READ_PERMISSIONS, SELF_CHECK_PERMISSIONS } from '../gcp/permissions.ts';
import type { PubSubResourcesPort } from '../gcp/pubsub-resources.ts';
import type { SchedulerPort } from '../gcp/scheduler.ts';
import type { SecretMetadataPort } from '../gcp/secrets.ts';
import {
  type CheckResult,
  checkDeliveries,
  checkMetric,
  checkPermissions,
  checkSinks,
  type DeliveryEvidence,
  failing,
  healthy,
  lookupFailed,
  type SelfCheckPorts,
  type SelfCheckTarget,
  unknown,
} from './checks.ts';
import {
  DEPLOYED_FUNCTIONS,
  type DeploymentNames,
  FUNCTION_TARGETS,
  type FunctionTarget,
  READING_FUNCTIONS,
  TOPIC_ROLES,
} from './deployment.ts';

/**
 * What `wi-sentinel doctor` checks of a deployment besides the sweep's own self-checks (checks.ts),
 * which it runs too, through the same functions: the functions are ACTIVE and fed by their push
 * subscriptions, the topics and their dead-letter twins exist, the sweep's scheduler job is enabled
 * and ran recently, the secrets the functions mount exist (metadata only: never a value), and each of
 * wi-sentinel's identities holds what it reads with on each watched project. Every check is run as
 * the person calling doctor: what that person may not read is a check that could not run (`unknown`).
 */
export interface DeploymentPorts {
  functions: FunctionsPort;
  scheduler: SchedulerPort;
  secrets: SecretMetadataPort;
  pubsub: PubSubResourcesPort;
  /** testIamPermissions answered for one of wi-sentinel's identities (its impersonated tokens). */
  permissionsAs(email: string): PermissionsPort;
}

export interface Deployment {
  /** The project wi-sentinel runs in. */
  host: string;
  names: DeploymentNames;
  /** The deployed functions by target, as Cloud Functions lists them; absent: not found. */
  functions: Partial<Record<FunctionTarget, FunctionInfo>>;
  /** Why the functions could not be listed, when they could not. */
  functionsUnreadable?: CheckResult;
}

/** doctor reads as its caller: a refusal is the caller's lack, repaired on `project` (lookupFailed). */
const asOperator = (project: string) => ({
  resource: { kind: 'project' as const, project },
  lookingAs: 'operator' as const,
  identity: undefined,
});
const terraform: Remediation = {
  title: "Re-apply wi-sentinel's Terraform module",
  command: 'terraform apply',
};

/** The deployed functions of `host`, found by the names infra/ gives them. */
export async function findDeployment(
  ports: Pick<DeploymentPorts, 'functions'>,
  host: string,
  names: DeploymentNames,
): Promise<Deployment> {
  try {
    const listed = await ports.functions.listFunctions(host);
    const functions: Partial<Record<FunctionTarget, FunctionInfo>> = {};
    for (const target of FUNCTION_TARGETS) {
      const found = listed.find((fn) => fn.id === names.functions[target]);
      if (found) functions[target] = found;
    }
    return { host, names, functions };
  } catch (error) {
    return {
      host,
      names,
      functions: {},
      functionsUnreadable: lookupFailed(
        'function',
        host,
        `list the functions of project ${host}`,
        error,
        asOperator(host),
      ),
    };
  }
}

// ----------------------------------------------------------------------------- functions

/** The `function` result of one function: deployed, ACTIVE, and reached the way it must be. */
export async function checkFunction(
  ports: Pick<DeploymentPorts, 'functions' | 'pubsub'>,
  deployment: Deployment,
  target: FunctionTarget,
): Promise<CheckResult> {
  const { host, names } = deployment;
  const id = names.functions[target];
  if (deployment.functionsUnreadable) {
    return unknown('function', host, `${target} (${id}): ${deployment.functionsUnreadable.summary}`);
  }
  const fn = deployment.functions[target];
  if (fn === undefined) {
    return failing('function', host, `${target}: function ${id} is not deployed in project ${host}`, [
      terraform,
    ]);
  }
  const label = `${target} (${id} in ${fn.location})`;
  if (fn.state !== 'ACTIVE') {
    const why = fn.stateMessages.length > 0 ? `: ${fn.stateMessages.join('; ')}` : '';
    return failing('function', host, `${label} is ${fn.state}, not ACTIVE${why}`, [
      {
        title: `See why ${id} is ${fn.state}`,
        command: `gcloud functions describe ${id} --region=${fn.location} --project=${host}`,
      },
      terraform,
    ]);
  }
  const topic = DEPLOYED_FUNCTIONS[target].topic;
  if (topic === undefined) return checkEndpoint(ports, deployment, fn, label);
  return checkWiring(ports, deployment, fn, label, target, names.topics[topic]);
}

/** An event function is fed by its push subscription, with a token, to its URL, with dead letters. */
async function checkWiring(
  ports: Pick<DeploymentPorts, 'pubsub'>,
  { host, names }: Deployment,
  fn: FunctionInfo,
  label: string,
  target: FunctionTarget,
  topic: string,
): Promise<CheckResult> {
  const name = `projects/${host}/subscriptions/${names.pushSubscription(target)}`;
  let subscription: Awaited<ReturnType<PubSubResourcesPort['getSubscription']>>;
  try {
    subscription = await ports.pubsub.getSubscription(name);
  } catch (error) {
    return lookupFailed('function', host, `read ${name}, which feeds ${label}`, error, asOperator(host));
  }
  if (subscription === undefined) {
    return failing(
      'function',
      host,
      `${label} is ACTIVE, but ${name} does not exist: nothing delivers ${topic} to it`,
      [terraform],
    );
  }
  const endpoint = `${fn.uri ?? '(no URL)'}/projects/${host}/topics/${topic}`;
  const deadLetter = `projects/${host}/topics/${names.deadLetter(topic)}`;
  const problems: string[] = [];
  if (subscription.topic !== `projects/${host}/topics/${topic}`)
    problems.push(`it reads ${subscription.topic}, not ${topic}`);
  if (subscription.pushEndpoint !== endpoint) {
    problems.push(
      `it pushes to ${subscription.pushEndpoint ?? 'nowhere (a pull subscription)'}, not ${endpoint}`,
    );
  }
  if (subscription.pushIdentity === undefined)
    problems.push('its pushes carry no OIDC token, so Cloud Run refuses each of them');
  if (subscription.deadLetterTopic !== deadLetter) {
    problems.push(
      `it has no dead-letter topic ${deadLetter}, so a message that keeps failing is retried until it expires`,
    );
  }
  if (subscription.state === 'RESOURCE_ERROR')
    problems.push('Pub/Sub reports it cannot push or forward (RESOURCE_ERROR)');
  if (problems.length > 0) {
    return failing('function', host, `${label} is ACTIVE, but ${name}: ${problems.join('; ')}`, [terraform]);
  }
  return healthy(
    'function',
    host,
    `${label} is ACTIVE, fed by ${names.pushSubscription(target)} (OIDC as ${subscription.pushIdentity}, dead letters to ${names.deadLetter(topic)} after ${subscription.maxDeliveryAttempts ?? '?'} attempts)`,
  );
}

/** wiStatus answers the internet: an unsigned request gets its own refusal, not Cloud Run's. */
async function checkEndpoint(
  ports: Pick<DeploymentPorts, 'functions'>,
  { host }: Deployment,
  fn: FunctionInfo,
  label: string,
): Promise<CheckResult> {
  if (fn.uri === undefined)
    return failing('function', host, `${label} is ACTIVE but has no URL`, [terraform]);
  let answer: { status: number; text: string };
  try {
    answer = await ports.functions.probe(fn.uri);
  } catch (error) {
    if (!(error instanceof LookupError)) throw error;
    return unknown(
      'function',
      host,
      `${label} is ACTIVE, but ${fn.uri} could not be reached: ${error.message}`,
    );
  }
  if (answer.status === 401 && /invalid request/.test(answer.text)) {
    return healthy(
      'function',
      host,
      `${label} is ACTIVE and answers Slack at ${fn.uri} (an unsigned request gets its own 401)`,
    );
  }
  if (answer.status === 403) {
    return failing(
      'function',
      host,
      `${label} is ACTIVE, but Cloud Run refuses unauthenticated requests to ${fn.uri} (403): Slack cannot reach /wi-status`,
      [
        {
          title: 'Let anyone invoke it (wiStatus checks every request’s Slack signature)',
          command: `gcloud run services add-iam-policy-binding ${fn.id} --region=${fn.location} --project=${host} --member=allUsers --role=roles/run.invoker`,
        },
        {
          title: 'Or, where domain-restricted sharing refuses allUsers, turn off its invoker IAM check',
          command: `gcloud run services update ${fn.id} --region=${fn.location} --project=${host} --no-invoker-iam-check`,
        },
      ],
    );
  }
  return unknown(
    'function',
    host,
    `${label} is ACTIVE, but an unsigned request to ${fn.uri} got ${answer.status}, not wiStatus's 401`,
  );
}

// ----------------------------------------------------------------------------- topics

/** The `topics` results: each topic, its dead-letter twin and the subscription that keeps dead letters. */
export async function checkTopics(
  ports: Pick<DeploymentPorts, 'pubsub'>,
  { host, names }: Deployment,
): Promise<CheckResult[]> {
  return Promise.all(
    TOPIC_ROLES.map(async (role) => {
      const topic = names.topics[role];
      const deadLetter = names.deadLetter(topic);
      try {
        const [main, dead, kept] = await Promise.all([
          ports.pubsub.topicExists(`projects/${host}/topics/${topic}`),
          ports.pubsub.topicExists(`projects/${host}/topics/${deadLetter}`),
          ports.pubsub.getSubscription(`projects/${host}/subscriptions/${deadLetter}`),
        ]);
        const missing = [
          ...(main ? [] : [`topic ${topic}`]),
          ...(dead ? [] : [`dead-letter topic ${deadLetter}`]),
          ...(kept ? [] : [`subscription ${deadLetter}, which keeps dead letters`]),
        ];
        if (missing.length > 0) {
          return failing(
            'topics',
            host,
            `the ${role} topic: ${missing.join(', ')} missing in project ${host}`,
            [terraform],
          );
        }
        return healthy(
          'topics',
          host,
          `topic ${topic}, its dead-letter topic and the subscription that keeps dead letters exist`,
        );
      } catch (error) {
        return lookupFailed(
          'topics',
          host,
          `read the ${role} topic of project ${host}`,
          error,
          asOperator(host),
        );
      }
    }),
  );
}

// ----------------------------------------------------------------------------- scheduler

/** Sweeps run every 15 minutes by default; a run later than its period and this much is overdue. */
const SCHEDULE_SLACK_MS = 5 * 60 * 1000;

/** The `scheduler` result: the sweep's job is enabled, publishes to the reconcile topic, ran recently and well. */
export async function checkScheduler(
  ports: Pick<DeploymentPorts, 'scheduler'>,
  deployment: Deployment,
  now: Date,
): Promise<CheckResult> {
  const { host, names } = deployment;
  const location = deployment.functions.reconcile?.location;
  if (location === undefined) {
    const why = deployment.functionsUnreadable
      ? 'the functions could not be listed'
      : 'reconcile is not deployed';
    return unknown(
      'scheduler',
      host,
      `the scheduler job ${names.schedulerJob} was not looked for: ${why}, so its region is not known`,
    );
  }
  const name = `projects/${host}/locations/${location}/jobs/${names.schedulerJob}`;
  const flags = `--location=${location} --project=${host}`;
  const runNow: Remediation = {
    title: 'Run it now',
    command: `gcloud scheduler jobs run ${names.schedulerJob} ${flags}`,
  };
  let job: Awaited<ReturnType<SchedulerPort['getJob']>>;
  try {
    job = await ports.scheduler.getJob(name);
  } catch (error) {
    return lookupFailed('scheduler', host, `read the scheduler job ${name}`, error, asOperator(host));
  }
  if (job === undefined) {
    return failing(
      'scheduler',
      host,
      `the scheduler job ${names.schedulerJob} does not exist: no sweep runs`,
      [terraform],
    );
  }
  const topic = `projects/${host}/topics/${names.topics.reconcile}`;
  if (job.state !== 'ENABLED') {
    return failing(
      'scheduler',
      host,
      `the scheduler job ${names.schedulerJob} is ${job.state}: no sweep runs`,
      [
        {
          title: `Resume ${names.schedulerJob}`,
          command: `gcloud scheduler jobs resume ${names.schedulerJob} ${flags}`,
        },
      ],
    );
  }
  if (job.topic !== topic) {
    return failing(
      'scheduler',
      host,
      `the scheduler job ${names.schedulerJob} publishes to ${job.topic ?? 'no topic'}, not ${topic}`,
      [terraform],
    );
  }
  if (job.lastAttemptTime === undefined) {
    return unknown(
      'scheduler',
      host,
      `the scheduler job ${names.schedulerJob} is enabled but has not run yet (next run ${job.scheduleTime ?? 'unknown'})`,
    );
  }
  const last = Date.parse(job.lastAttemptTime);
  const next = job.scheduleTime ? Date.parse(job.scheduleTime) : Number.NaN;
  const minutesAgo = Math.round((now.getTime() - last) / 60_000);
  if (job.status?.code) {
    return failing(
      'scheduler',
      host,
      `the scheduler job ${names.schedulerJob} last ran at ${job.lastAttemptTime} and failed: ${job.status.message ?? `code ${job.status.code}`}`,
      [
        {
          title: 'Read what the scheduler logged',
          command: `gcloud logging read 'resource.type="cloud_scheduler_job" AND resource.labels.job_id="${names.schedulerJob}"' --project=${host} --freshness=1d --limit=5`,
        },
        runNow,
      ],
    );
  }
  // The gap between the last run and the next is the schedule's period (no cron parsing needed).
  const period = Number.isNaN(next) ? Number.NaN : next - last;
  const overdue =
    (!Number.isNaN(next) && now.getTime() > next + SCHEDULE_SLACK_MS) ||
    (!Number.isNaN(period) && now.getTime() - last > period + Math.max(period, SCHEDULE_SLACK_MS));
  if (overdue) {
    return failing(
      'scheduler',
      host,
      `the scheduler job ${names.schedulerJob} is enabled but last ran at ${job.lastAttemptTime}, ${minutesAgo} min ago, and its next run (${job.scheduleTime}) is overdue`,
      [runNow],
    );
  }
  return healthy(
    'scheduler',
    host,
    `the scheduler job ${names.schedulerJob} is enabled, last ran at ${job.lastAttemptTime} (${minutesAgo} min ago) and runs next at ${job.scheduleTime ?? 'an unknown time'}`,
  );
}

// ----------------------------------------------------------------------------- secrets

/** The `secrets` results: every secret a function mounts exists with an enabled version. Values are never read. */
export async function checkSecrets(
  ports: Pick<DeploymentPorts, 'secrets'>,
  deployment: Deployment,
): Promise<CheckResult[]> {
  const { host } = deployment;
  const mounted = new Map<string, { version: string; by: string[] }>();
  for (const target of FUNCTION_TARGETS) {
    for (const ref of deployment.functions[target]?.secrets ?? []) {
      const key = `projects/${ref.project}/secrets/${ref.secret}|${ref.version}`;
      const entry = mounted.get(key) ?? { version: ref.version, by: [] };
      entry.by.push(target);
      mounted.set(key, entry);
    }
  }
  if (mounted.size === 0) {
    return [unknown('secrets', host, 'no deployed function was found to say which secrets it mounts')];
  }
  return Promise.all(
    [...mounted].map(async ([key, { version, by }]) => {
      const secret = key.split('|')[0] as string;
      const short = secret.split('/').at(-1) as string;
      const project = secret.split('/')[1] as string;
      try {
        if (!(await ports.secrets.secretExists(secret))) {
          return failing(
            'secrets',
            host,
            `secret ${short} (mounted by ${by.join(', ')}) does not exist: those functions cannot start`,
            [terraform],
          );
        }
        const state = await ports.secrets.versionState(`${secret}/versions/${version}`);
        if (state === 'ENABLED') {
          return healthy(
            'secrets',
            host,
            `secret ${short} (mounted by ${by.join(', ')}) has an enabled ${version} version`,
          );
        }
        const add: Remediation = {
          title: `Add a version to ${short} (the value from where you keep it; never on the command line)`,
          command: `gcloud secrets versions add ${short} --data-file=- --project=${project}`,
        };
        return failing(
          'secrets',
          host,
          state === undefined
            ? `secret ${short} (mounted by ${by.join(', ')}) has no ${version} version: those functions cannot start a new instance`
            : `secret ${short} (mounted by ${by.join(', ')}): its ${version} version is ${state}, so those functions cannot start a new instance`,
          [add],
        );
      } catch (error) {
        return lookupFailed(
          'secrets',
          host,
          `read the metadata of secret ${short}`,
          error,
          asOperator(project),
        );
      }
    }),
  );
}

// ----------------------------------------------------------------------------- identities

/**
 * The `permissions` results of wi-sentinel's identities (not the caller's): each function that reads
 * live state holds READ_PERMISSIONS on each watched project, and reconcile its self-checks' reads too,
 * asked of testIamPermissions as that identity.
 */
export async function checkIdentities(
  ports: Pick<DeploymentPorts, 'permissionsAs'>,
  deployment: Deployment,
  projects: readonly string[],
): Promise<CheckResult[]> {
  const checks: Promise<CheckResult>[] = [];
  for (const target of READING_FUNCTIONS) {
    const identity = deployment.functions[target]?.serviceAccount;
    if (identity === undefined) {
      if (deployment.functions[target] !== undefined || deployment.functionsUnreadable) {
        checks.push(
          Promise.resolve(
            unknown(
              'permissions',
              deployment.host,
              `${target}: its identity is not known, so its permissions were not tested`,
            ),
          ),
        );
      }
      continue;
    }
    const permissions =
      target === 'reconcile' ? [...READ_PERMISSIONS, ...SELF_CHECK_PERMISSIONS] : READ_PERMISSIONS;
    const port = ports.permissionsAs(identity);
    for (const project of projects) {
      checks.push(
        checkPermissions({ permissions: port }, project, identity, {
          permissions,
          who: `${target} (${identity})`,
        }),
      );
    }
  }
  return Promise.all(checks);
}

// ----------------------------------------------------------------------------- all

/**
 * Every check of doctor, in the checklist's order: the functions, the topics, the scheduler job, the
 * secrets, then what the sweep checks itself (the sinks, the metadata-server metric, deliveries)
 * through the same functions, and the identities' permissions.
 */
export async function doctorChecks(
  ports: SelfCheckPorts & DeploymentPorts,
  deployment: Deployment,
  target: SelfCheckTarget,
  options: {
    now: Date;
    /** What the store says of deliveries, or why it could not be read. */
    deliveries: Omit<DeliveryEvidence, 'now'> | CheckResult;
  },
): Promise<CheckResult[]> {
  const looking = { ...target, lookingAs: 'operator' as const };
  const { metrics } = ports;
  const { now, deliveries: evidence } = options;
  const [functions, topics, scheduler, secrets, sinks, metric, identities, deliveries] = await Promise.all([
    Promise.all(FUNCTION_TARGETS.map((fn) => checkFunction(ports, deployment, fn))),
    checkTopics(ports, deployment),
    checkScheduler(ports, deployment, now),
    checkSecrets(ports, deployment),
    Promise.all(checkSinks(ports, looking)),
    metrics ? Promise.all(target.projects.map((project) => checkMetric({ metrics }, project, looking))) : [],
    checkIdentities(ports, deployment, target.projects),
    'check' in evidence ? Promise.resolve(evidence) : checkDeliveries(ports, looking, { ...evidence, now }),
  ]);
  return [
    ...functions,
    ...topics,
    scheduler,
    ...secrets,
    ...sinks.flat(),
    ...metric,
    ...identities,
    deliveries,
  ];
}
