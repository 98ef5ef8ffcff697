import { join } from 'node:path';
import { type FakeResponseUrl, startFakeResponseUrl } from '../fakes/response-url.ts';
import { type FunctionServer, startFunction } from './function-server.ts';
import type { InfraDelivery } from './infra-delivery.ts';
import { FIXTURES } from './paths.ts';
import { type Emulators, startEmulators, subscribeAsInfra } from './pipeline.ts';
import { type PubSub, pubSubClient } from './pubsub.ts';

/**
 * /wi-status as deployed, on this machine: `wiStatus` and `wiCommands` (functions-framework, child
 * processes) sharing the Firestore emulator, the commands topic on the Pub/Sub emulator pushed to
 * `wiCommands` as infra/ declares it (subscribeAsInfra: endpoint path, ack deadline, dead-letter topic), a fake `response_url`, and the fixture organization as WI_SNAPSHOT. `env` is what
 * both functions were given, to serve another instance alike.
 */
export interface SlashPipeline {
  emulators: Emulators;
  hooks: FakeResponseUrl;
  status: FunctionServer;
  commands: FunctionServer;
  pubsub: PubSub;
  /** wiCommands' push subscription, as infra/ declares it. */
  delivery: InfraDelivery;
  env: Record<string, string>;
  /** Stops everything started, and what `also` was given, last in first. */
  stop(): Promise<void>;
  /** Something more to stop with the rest. */
  also(thing: { stop(): Promise<unknown> }): void;
}

export const COMMANDS_TOPIC = 'wi-sentinel-commands';

export async function startSlashPipeline({
  projectId,
  secret,
  prefix,
  gcloud,
  env: extra = {},
  commandsEnv = {},
}: {
  projectId: string;
  secret: string;
  /** Firestore collection prefix: this pipeline's state apart from any other's. */
  prefix: string;
  gcloud?: string;
  /** More environment for both functions (Slack and PagerDuty fakes, say). */
  env?: Record<string, string>;
  /** wiCommands' own: a variable set to '' is removed (WI_SNAPSHOT, to read live fakes instead). */
  commandsEnv?: Record<string, string>;
}): Promise<SlashPipeline> {
  const started: { stop(): Promise<unknown> }[] = [];
  const stop = async () => {
    for (const thing of started.reverse()) await thing.stop().catch(() => {});
  };
  try {
    const emulators = await startEmulators({ projectId, ...(gcloud ? { gcloud } : {}) });
    started.push(emulators);
    const hooks = await startFakeResponseUrl();
    started.push(hooks);
    const env = {
      SLACK_SIGNING_SECRET: secret,
      SLACK_ALLOWED_USERS: 'U0ALICE',
      SLACK_RESPONSE_URL_ORIGINS: hooks.origin,
      WI_SNAPSHOT: join(FIXTURES, 'snapshot.json'),
      WI_STATE: 'firestore',
      FIRESTORE_EMULATOR_HOST: emulators.firestore.host,
      WI_FIRESTORE_PREFIX: `${prefix}${Date.now().toString(36)}-`,
      PUBSUB_EMULATOR_HOST: emulators.pubsub.host,
      GOOGLE_CLOUD_PROJECT: projectId,
      ...extra,
    };
    const forCommands = Object.fromEntries(
      Object.entries({ ...env, ...commandsEnv }).filter(([, value]) => value !== ''),
    );
    const [status, commands] = await Promise.all([
      startFunction('wiStatus', { signatureType: 'http', env }),
      startFunction('wiCommands', { env: forCommands }),
    ]);
    started.push(status, commands);
    const pubsub = pubSubClient(emulators.pubsub.host, projectId);
    const delivery = await subscribeAsInfra(pubsub, 'wiCommands', commands.url);
    started.push({ stop: () => pubsub.deleteSubscription(delivery.subscription) });
    // WI_COMMANDS_TOPIC (left to its default here) must name the topic infra/ feeds wiCommands from.
    if (delivery.topic !== COMMANDS_TOPIC) {
      throw new Error(
        `infra/ feeds wiCommands from ${delivery.topic}, not ${COMMANDS_TOPIC} (WI_COMMANDS_TOPIC)`,
      );
    }
    return {
      emulators,
      hooks,
      status,
      commands,
      pubsub,
      delivery,
      env,
      stop,
      also: (thing) => started.push(thing),
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
