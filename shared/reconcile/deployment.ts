/**
 * The names infra/ gives the parts of a deployment, from its `name_prefix`: what `wi-sentinel doctor`
 * looks for. test/infra/wiring.test.ts holds the module to them, as it holds it to the function
 * targets and the environment the code reads.
 */

/** Each function, by functions-framework target: the suffix of its name and the topic that feeds it. */
export const DEPLOYED_FUNCTIONS = {
  auditEvents: { suffix: 'audit-events', topic: 'audit' },
  reconcile: { suffix: 'reconcile', topic: 'reconcile' },
  wiCommands: { suffix: 'command-runner', topic: 'commands' },
  wiStatus: { suffix: 'status', topic: undefined },
  pagerdutyWebhook: { suffix: 'pagerduty-webhook', topic: undefined },
} as const;

export type FunctionTarget = keyof typeof DEPLOYED_FUNCTIONS;
export type TopicRole = 'audit' | 'reconcile' | 'commands';

export const FUNCTION_TARGETS = Object.keys(DEPLOYED_FUNCTIONS) as FunctionTarget[];
export const TOPIC_ROLES: readonly TopicRole[] = ['audit', 'reconcile', 'commands'];
/** The functions that read live state (infra's reader role). */
export const READING_FUNCTIONS: readonly FunctionTarget[] = ['auditEvents', 'reconcile', 'wiCommands'];

export const DEFAULT_PREFIX = 'wi-sentinel';

export interface DeploymentNames {
  prefix: string;
  /** Function ids by target. */
  functions: Record<FunctionTarget, string>;
  /** Topic ids by role. */
  topics: Record<TopicRole, string>;
  /** The dead-letter twin of a topic id, and the pull subscription of the same name. */
  deadLetter(topic: string): string;
  /** The push subscription id of an event function. */
  pushSubscription(target: FunctionTarget): string;
  /** The scheduler job id of the sweep. */
  schedulerJob: string;
  /** Sink names by filter (`local.sinks` keys). */
  sinks: { audit: string; workload: string };
}

export function deploymentNames(prefix: string = DEFAULT_PREFIX): DeploymentNames {
  const functions = Object.fromEntries(
    FUNCTION_TARGETS.map((target) => [target, `${prefix}-${DEPLOYED_FUNCTIONS[target].suffix}`]),
  ) as Record<FunctionTarget, string>;
  return {
    prefix,
    functions,
    topics: { audit: `${prefix}-audit`, reconcile: `${prefix}-reconcile`, commands: `${prefix}-commands` },
    deadLetter: (topic) => `${topic}-dead-letter`,
    pushSubscription: (target) => `${functions[target]}-push`,
    schedulerJob: `${prefix}-reconcile`,
    sinks: { audit: `${prefix}-audit`, workload: `${prefix}-workload` },
  };
}
