import { join } from 'node:path';
import { type Body, blockNamed, blocksOf, loadModule } from '../infra/terraform.ts';
import { REPO_ROOT } from './paths.ts';

/**
 * How infra/ delivers a topic's messages to an event function (pubsub.tf `google_pubsub_subscription.push`),
 * read from the module itself, so the end-to-end suite pushes through the emulator exactly as the
 * deployment does: the endpoint's path, the ack deadline, the retry policy, the dead-letter topic and
 * the number of attempts before it. When the module says something this reader does not expect, it
 * throws: the suite must not go on testing a delivery that is no longer the deployed one.
 */
export interface InfraDelivery {
  /** The push subscription's name: `FUNCTION-push`. */
  subscription: string;
  /** The topic the function is fed by. */
  topic: string;
  /** The topic's dead-letter twin, and the pull subscription of the same name that keeps its messages. */
  deadLetterTopic: string;
  ackDeadlineSeconds: number;
  retryPolicy: { minimumBackoff: string; maximumBackoff: string };
  /** max_delivery_attempts's default. */
  maxDeliveryAttempts: number;
  /** Its lowest valid value (the variable's validation). */
  minDeliveryAttempts: number;
}

/** Terraform's `${…}` interpolation of an expression, as hcl2json writes it. */
const tf = (expression: string): string => ['$', '{', expression, '}'].join('');

function expect(actual: unknown, expected: unknown, what: string): void {
  if (JSON.stringify(actual) !== JSON.stringify(expected)) {
    throw new Error(
      `infra/ ${what} is ${JSON.stringify(actual)}, not ${JSON.stringify(expected)}: update test/support/infra-delivery.ts`,
    );
  }
}

const only = (body: Body, name: string): Body => {
  const blocks = body[name] as Body[] | undefined;
  if (blocks?.length !== 1)
    throw new Error(`infra/ google_pubsub_subscription.push has no single ${name} block`);
  return blocks[0] as Body;
};

/** The delivery of `target` (a functions-framework target of infra's local.functions) with the default prefix. */
export async function infraDelivery(
  target: 'auditEvents' | 'reconcile' | 'wiCommands',
): Promise<InfraDelivery> {
  const module = await loadModule(join(REPO_ROOT, 'infra'));
  const variable = (name: string) => blocksOf(module, 'variable').find((v) => v.name === name)?.body;
  const prefix = variable('name_prefix')?.default as string;
  const render = (template: string) => template.replaceAll(tf('local.prefix'), prefix);
  const functions = module.locals.get('functions') as Record<string, Body>;
  const topics = module.locals.get('topics') as Record<string, string>;
  const fn = functions[target];
  if (fn === undefined || typeof fn.topic !== 'string')
    throw new Error(`infra/ has no event function ${target}`);
  const topic = render(topics[fn.topic] as string);

  const push = blockNamed(module, 'resource', 'google_pubsub_subscription', 'push');
  expect(push.body.for_each, tf('local.event_functions'), 'google_pubsub_subscription.push for_each');
  expect(push.body.name, `${tf('each.value.name')}-push`, 'the push subscription name');
  expect(push.body.ack_deadline_seconds, tf('each.value.timeout'), 'the ack deadline');
  const config = only(push.body, 'push_config');
  expect(
    config.push_endpoint,
    `${tf('google_cloudfunctions2_function.function[each.key].service_config[0].uri')}/projects/${tf('var.project_id')}/topics/${tf('google_pubsub_topic.topic[each.value.topic].name')}`,
    'the push endpoint',
  );
  expect(config.no_wrapper, undefined, 'no_wrapper');
  const deadLetter = only(push.body, 'dead_letter_policy');
  expect(
    deadLetter.dead_letter_topic,
    tf('google_pubsub_topic.dead_letter[each.value.topic].id'),
    'the dead-letter topic',
  );
  expect(deadLetter.max_delivery_attempts, tf('var.max_delivery_attempts'), 'max_delivery_attempts');
  const dlt = blockNamed(module, 'resource', 'google_pubsub_topic', 'dead_letter');
  expect(dlt.body.name, `${tf('each.value')}-dead-letter`, 'the dead-letter topic name');
  const retry = only(push.body, 'retry_policy') as { minimum_backoff: string; maximum_backoff: string };

  const attempts = variable('max_delivery_attempts');
  const validation = ((attempts?.validation ?? []) as Body[])[0]?.condition as string;
  const floor = /var\.max_delivery_attempts >= (\d+)/.exec(validation ?? '')?.[1];
  if (floor === undefined) throw new Error('infra/ max_delivery_attempts has no lower bound');
  return {
    subscription: `${render(fn.name as string)}-push`,
    topic,
    deadLetterTopic: `${topic}-dead-letter`,
    ackDeadlineSeconds: fn.timeout as number,
    retryPolicy: { minimumBackoff: retry.minimum_backoff, maximumBackoff: retry.maximum_backoff },
    maxDeliveryAttempts: attempts?.default as number,
    minDeliveryAttempts: Number(floor),
  };
}
