import { join } from 'node:path';
import { type FakeResponseUrl, startFakeResponseUrl } from '../fakes/response-url.ts';
import { type FunctionServer, startFunction } from './function-server.ts';
import { FIXTURES } from './paths.ts';
import { type Emulators, startEmulators } from './pipeline.ts';
import { type PubSub, pubSubClient, pushEndpoint } from './pubsub.ts';

/**
 * /wi-status as deployed, on this machine: `wiStatus` and `wiCommands` (functions-framework, child
 * processes) sharing the Firestore emulator, the commands topic on the Pub/Sub emulator pushed to
 * `wiCommands`, a fake `response_url`, and the fixture organization as WI_SNAPSHOT. `env` is what
 * both functions were given, to serve another instance alike.
 */
export interface SlashPipeline {
  emulators: Emulators;
  hooks: FakeResponseUrl;
  status: FunctionServer;
  commands: FunctionServer;
  pubsub: PubSub;
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
}: {
  projectId: string;
  secret: string;
  /** Firestore collection prefix: this pipeline's state apart from any other's. */
  prefix: string;
  gcloud?: string;
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
    };
    const [status, commands] = await Promise.all([
      startFunction('wiStatus', { signatureType: 'http', env }),
      startFunction('wiCommands', { env }),
    ]);
    started.push(status, commands);
    const pubsub = pubSubClient(emulators.pubsub.host, projectId);
    await pubsub.createTopic(COMMANDS_TOPIC);
    await pubsub.createPushSubscription(`${COMMANDS_TOPIC}-push`, {
      topic: COMMANDS_TOPIC,
      endpoint: pushEndpoint(commands.url, projectId, COMMANDS_TOPIC),
    });
    started.push({ stop: () => pubsub.deleteSubscription(`${COMMANDS_TOPIC}-push`) });
    return { emulators, hooks, status, commands, pubsub, env, stop, also: (thing) => started.push(thing) };
  } catch (error) {
    await stop();
    throw error;
  }
}
