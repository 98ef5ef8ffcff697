/**
 * A whole deployment of wi-sentinel on fakes of each Google API it is made of, healthy as infra/
 * leaves it: four functions (Cloud Functions), their topics, dead-letter twins and push subscriptions
 * (Pub/Sub), the sweep's job (Cloud Scheduler), the secrets (Secret Manager, values included so a
 * test can show none is read), the sinks (Logging), the metadata-server metric (Monitoring), and the
 * identities' permissions (Resource Manager, asked as each identity through IAM Credentials). Each
 * test breaks one part through the fakes; `env` points wi-sentinel at them.
 */

import { METADATA_SERVER_CODE_LABEL, METADATA_SERVER_METRIC } from '../../shared/events/monitoring.ts';
import { auditSinkFilter } from '../../shared/events/sink-filter.ts';
import { READ_PERMISSIONS, SELF_CHECK_PERMISSIONS } from '../../shared/gcp/permissions.ts';
import { deploymentNames } from '../../shared/reconcile/deployment.ts';
import { workloadSinkFilter } from '../../shared/symptoms/filter.ts';
import {
  type FakeCloudFunctions,
  type FakeFunction,
  startFakeCloudFunctions,
} from '../fakes/cloud-functions.ts';
import type { FakeServer } from '../fakes/fake-server.ts';
import { type FakeIamCredentials, startFakeIamCredentials } from '../fakes/iam-credentials.ts';
import { type FakeLogging, startFakeLogging } from '../fakes/logging.ts';
import { type FakeMonitoring, startFakeMonitoring } from '../fakes/monitoring.ts';
import { type FakePermissions, startFakePermissions } from '../fakes/permissions.ts';
import { type FakePubsubIam, startFakePubsubIam } from '../fakes/pubsub-iam.ts';
import { type FakeScheduler, startFakeScheduler } from '../fakes/scheduler.ts';
import { type FakeSecretManager, startFakeSecretManager } from '../fakes/secret-manager.ts';

/** Not a real credential: what the fakes expect as the operator's bearer token. */
export const OPERATOR_TOKEN = 'ya29.doctor-operator-token-for-tests-only';
export const HOST = 'orbit-ops';
export const REGION = 'europe-west1';
export const WATCHED = ['orbit-prod', 'orbit-dev'];
export const NAMES = deploymentNames();
/** Values the fake secrets hold: they must never leave Secret Manager. */
export const SECRET_VALUES = {
  'wi-sentinel-slack-bot-token': 'xoxb-0000-doctor-never-read-this',
  'wi-sentinel-slack-signing-secret': 'doctor-signing-secret-never-read',
  'wi-sentinel-pagerduty-routing-key': 'D0CT0RR0UT1NGKEYD0CT0RR0UT1NGKE',
  'wi-sentinel-pagerduty-webhook-secret': 'doctor-webhook-secret-never-read',
};

export const identityOf = (target: string) =>
  `${NAMES.prefix}-${target.toLowerCase()}@${HOST}.iam.gserviceaccount.com`;
export const PUSH_IDENTITY = `${NAMES.prefix}-trigger@${HOST}.iam.gserviceaccount.com`;
export const WRITERS: Record<string, string> = {
  'orbit-prod': 'serviceAccount:service-731604512345@gcp-sa-logging.iam.gserviceaccount.com',
  'orbit-dev': 'serviceAccount:service-731604599999@gcp-sa-logging.iam.gserviceaccount.com',
};
export const NOW = new Date('2026-11-28T12:00:00.000Z');

export interface DeploymentFakes {
  functions: FakeCloudFunctions;
  pubsub: FakePubsubIam;
  scheduler: FakeScheduler;
  secrets: FakeSecretManager;
  logging: FakeLogging;
  monitoring: FakeMonitoring;
  permissions: FakePermissions;
  credentials: FakeIamCredentials;
  all: FakeServer[];
  /** wi-sentinel's environment on a laptop: the operator's token and the fakes' URLs. */
  env: Record<string, string>;
  /** Every fake back to the healthy deployment, calls forgotten. */
  reset(): void;
  stop(): Promise<void>;
}

const topicName = (id: string) => `projects/${HOST}/topics/${id}`;

/** The functions as Cloud Functions lists them, configured as infra/ configures them. */
export function deployedFunctions(): FakeFunction[] {
  const env = {
    WI_STATE: 'firestore',
    GOOGLE_CLOUD_PROJECT: HOST,
    WI_FIRESTORE_DATABASE: 'wi-sentinel',
    WI_PROJECTS: WATCHED.join(','),
    SLACK_CHANNEL: '#wi-alerts',
    WI_COMMANDS_TOPIC: NAMES.topics.commands,
    WI_SINK: NAMES.sinks.audit,
    WI_WORKLOAD_SINK: NAMES.sinks.workload,
    WI_AUDIT_TOPIC: NAMES.topics.audit,
  };
  const secret = (key: string, id: keyof typeof SECRET_VALUES) => ({
    key,
    projectId: HOST,
    secret: id,
    version: 'latest',
  });
  const notify = [
    secret('SLACK_BOT_TOKEN', 'wi-sentinel-slack-bot-token'),
    secret('PAGERDUTY_ROUTING_KEY', 'wi-sentinel-pagerduty-routing-key'),
  ];
  const fn = (target: string, secrets: ReturnType<typeof secret>[]): FakeFunction => ({
    name: `projects/${HOST}/locations/${REGION}/functions/${NAMES.functions[target as keyof typeof NAMES.functions]}`,
    state: 'ACTIVE',
    labels: { app: 'wi-sentinel' },
    buildConfig: { entryPoint: target, runtime: 'nodejs22' },
    serviceConfig: {
      serviceAccountEmail: identityOf(target),
      environmentVariables: env,
      secretEnvironmentVariables: secrets,
    },
  });
  return [
    fn('auditEvents', notify),
    fn('reconcile', notify),
    fn('wiCommands', [...notify, secret('SLACK_SIGNING_SECRET', 'wi-sentinel-slack-signing-secret')]),
    fn('wiStatus', [secret('SLACK_SIGNING_SECRET', 'wi-sentinel-slack-signing-secret')]),
    fn('pagerdutyWebhook', [
      secret('SLACK_BOT_TOKEN', 'wi-sentinel-slack-bot-token'),
      secret('PAGERDUTY_WEBHOOK_SECRET', 'wi-sentinel-pagerduty-webhook-secret'),
    ]),
  ];
}

export async function startDeploymentFakes(): Promise<DeploymentFakes> {
  const token = OPERATOR_TOKEN;
  const [functions, pubsub, scheduler, secrets, logging, monitoring, permissions, credentials] =
    await Promise.all([
      startFakeCloudFunctions({ token }),
      startFakePubsubIam({ token }),
      startFakeScheduler({ token }),
      startFakeSecretManager({ token }),
      startFakeLogging({ token }),
      startFakeMonitoring({ token }),
      startFakePermissions({ token }),
      startFakeIamCredentials({ token }),
    ]);
  const fakes = { functions, pubsub, scheduler, secrets, logging, monitoring, permissions, credentials };
  const all: FakeServer[] = Object.values(fakes);

  const reset = () => {
    for (const fake of all) {
      fake.calls.length = 0;
      fake.clearFaults();
    }
    for (const fn of deployedFunctions()) functions.setFunction(HOST, fn);
    for (const id of [
      'wi-sentinel-audit-events',
      'wi-sentinel-reconcile',
      'wi-sentinel-command-runner',
      'wi-sentinel-status',
      'wi-sentinel-pagerduty-webhook',
    ]) {
      functions.setEndpointAnswer(id, 401, 'invalid request');
    }
    const events = { auditEvents: 'audit', reconcile: 'reconcile', wiCommands: 'commands' } as const;
    for (const [target, role] of Object.entries(events)) {
      const topic = NAMES.topics[role];
      pubsub.setTopic(topicName(topic), {
        bindings:
          role === 'audit' ? [{ role: 'roles/pubsub.publisher', members: Object.values(WRITERS) }] : [],
      });
      pubsub.setTopic(topicName(NAMES.deadLetter(topic)), { bindings: [] });
      pubsub.setSubscription(`projects/${HOST}/subscriptions/${NAMES.deadLetter(topic)}`, {
        topic: topicName(NAMES.deadLetter(topic)),
      });
      const uri = functions.uriOf(NAMES.functions[target as keyof typeof events]);
      pubsub.setSubscription(
        `projects/${HOST}/subscriptions/${NAMES.pushSubscription(target as keyof typeof events)}`,
        {
          topic: topicName(topic),
          pushConfig: {
            pushEndpoint: `${uri}/projects/${HOST}/topics/${topic}`,
            oidcToken: { serviceAccountEmail: PUSH_IDENTITY, audience: uri },
          },
          deadLetterPolicy: { deadLetterTopic: topicName(NAMES.deadLetter(topic)), maxDeliveryAttempts: 10 },
          ackDeadlineSeconds: 120,
        },
      );
    }
    scheduler.setJob(`projects/${HOST}/locations/${REGION}/jobs/${NAMES.schedulerJob}`, {
      state: 'ENABLED',
      schedule: '*/15 * * * *',
      timeZone: 'Etc/UTC',
      lastAttemptTime: '2026-11-28T11:45:00.123Z',
      scheduleTime: '2026-11-28T12:00:00Z',
      pubsubTarget: { topicName: topicName(NAMES.topics.reconcile) },
    });
    for (const [id, value] of Object.entries(SECRET_VALUES)) {
      secrets.setSecret(`projects/${HOST}/secrets/${id}`, { versions: ['DESTROYED', 'ENABLED'], value });
    }
    for (const project of WATCHED) {
      const writerIdentity = WRITERS[project] as string;
      const destination = `pubsub.googleapis.com/${topicName(NAMES.topics.audit)}`;
      logging.setSink(`projects/${project}/sinks/${NAMES.sinks.audit}`, {
        destination,
        filter: auditSinkFilter(),
        writerIdentity,
      });
      logging.setSink(`projects/${project}/sinks/${NAMES.sinks.workload}`, {
        destination,
        filter: workloadSinkFilter(),
        writerIdentity,
      });
      monitoring.setDescriptors(project, [
        { type: METADATA_SERVER_METRIC, labels: [METADATA_SERVER_CODE_LABEL] },
      ]);
      for (const target of ['auditEvents', 'wiCommands'])
        permissions.setGrantedTo(identityOf(target), project, [...READ_PERMISSIONS]);
      permissions.setGrantedTo(identityOf('reconcile'), project, [
        ...READ_PERMISSIONS,
        ...SELF_CHECK_PERMISSIONS,
      ]);
    }
    logging.setEntries([]);
    permissions.setPolicy(HOST, { bindings: [] });
    for (const target of ['auditEvents', 'reconcile', 'wiCommands'])
      credentials.allow(identityOf(target), true);
  };
  reset();

  return {
    ...fakes,
    all,
    env: {
      GOOGLE_OAUTH_ACCESS_TOKEN: token,
      GOOGLE_CLOUD_PROJECT: HOST,
      CLOUD_FUNCTIONS_API_URL: functions.url,
      PUBSUB_API_URL: pubsub.url,
      CLOUD_SCHEDULER_API_URL: scheduler.url,
      SECRET_MANAGER_API_URL: secrets.url,
      LOGGING_API_URL: logging.url,
      MONITORING_API_URL: monitoring.url,
      RESOURCE_MANAGER_API_URL: permissions.url,
      IAM_CREDENTIALS_API_URL: credentials.url,
    },
    reset,
    async stop() {
      await Promise.all(all.map((fake) => fake.stop()));
    },
  };
}
