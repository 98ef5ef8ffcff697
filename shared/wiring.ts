import { readFileSync } from 'node:fs';
import type { Config } from './config.ts';
import { ConfigError } from './errors.ts';
import { createFirestoreStore } from './incidents/firestore-store.ts';
import { createMemoryStore } from './incidents/memory-store.ts';
import type { IncidentStore } from './incidents/store.ts';
import type { Logger } from './log.ts';
import { createPagerDutySender } from './notify/pagerduty.ts';
import { defaultRouting, parseRouting, type Routing } from './notify/routing.ts';
import { createSlackSender } from './notify/slack.ts';
import { createTerminalPagerDuty, createTerminalSlack } from './notify/terminal.ts';
import type { Senders } from './notify/types.ts';

/**
 * Builds the stateful and notifying parts from the configuration. Nothing here loads a client
 * library: the store and senders load theirs on first use. With `terminal`, what is not configured
 * is printed there instead (replay, demo): a default channel and a stand-in PagerDuty service make
 * every route visible.
 */
export const TERMINAL_CHANNEL = '#wi-sentinel';
export const TERMINAL_ROUTING_KEY = 'terminal0000000000000000000000000';

export function sendersFromConfig(
  config: Config,
  { terminal, logger }: { terminal?: (text: string) => void; logger?: Logger } = {},
): Senders {
  const log = logger ? { logger } : {};
  const senders: Senders = {};
  if (config.SLACK_BOT_TOKEN) {
    senders.slack = createSlackSender({
      token: config.SLACK_BOT_TOKEN,
      apiUrl: config.SLACK_API_URL,
      ...log,
    });
  } else if (terminal) {
    senders.slack = createTerminalSlack(terminal);
  }
  if (config.PAGERDUTY_ROUTING_KEY || !terminal) {
    senders.pagerduty = createPagerDutySender({ url: config.PAGERDUTY_EVENTS_URL, ...log });
  } else {
    senders.pagerduty = createTerminalPagerDuty(terminal);
  }
  return senders;
}

export function routingFromConfig(config: Config, env: NodeJS.ProcessEnv, terminal = false): Routing {
  const defaults = {
    slackChannel:
      config.SLACK_CHANNEL ?? (terminal && !config.SLACK_BOT_TOKEN ? TERMINAL_CHANNEL : undefined),
    pagerdutyRoutingKey: config.PAGERDUTY_ROUTING_KEY ?? (terminal ? TERMINAL_ROUTING_KEY : undefined),
  };
  if (!config.WI_ROUTES) return defaultRouting(defaults);
  let text: string;
  try {
    text = readFileSync(config.WI_ROUTES, 'utf8');
  } catch (error) {
    throw new ConfigError(
      `WI_ROUTES ${config.WI_ROUTES} cannot be read: ${(error as NodeJS.ErrnoException).code}`,
    );
  }
  return parseRouting(text, { file: `WI_ROUTES ${config.WI_ROUTES}`, env, defaults });
}

export function storeFromConfig(config: Config): IncidentStore {
  if (config.WI_STATE === 'memory') return createMemoryStore();
  return createFirestoreStore({
    ...(config.GOOGLE_CLOUD_PROJECT ? { projectId: config.GOOGLE_CLOUD_PROJECT } : {}),
    ...(config.WI_FIRESTORE_DATABASE ? { databaseId: config.WI_FIRESTORE_DATABASE } : {}),
    ...(config.WI_FIRESTORE_PREFIX ? { prefix: config.WI_FIRESTORE_PREFIX } : {}),
    ...(config.FIRESTORE_EMULATOR_HOST ? { emulatorHost: config.FIRESTORE_EMULATOR_HOST } : {}),
  });
}
