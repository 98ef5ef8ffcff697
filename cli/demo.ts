import type { AddressInfo } from 'node:net';
import { setTimeout as pause } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { cloudEvent } from '@google-cloud/functions-framework';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import { createAuditEventsHandler } from '../functions/audit-events.ts';
import { loadConfig } from '../shared/config.ts';
import { createMemoryStore } from '../shared/incidents/memory-store.ts';
import type { Snapshot } from '../shared/inventory/snapshot.ts';
import { createLogger } from '../shared/log.ts';
import { createTerminalSlack } from '../shared/notify/terminal.ts';
import type { SlackSender } from '../shared/notify/types.ts';
import { renderSummaryText, summarize } from '../shared/status/summary.ts';
import { routingFromConfig, sendersFromConfig } from '../shared/wiring.ts';
import { demoOrganization, PROJECT } from './demo/organization.ts';
import { demoStory } from './demo/story.ts';
import type { Io } from './io.ts';

/**
 * The embedded default: a simulated organization and a story of how Workload Identity breaks and is
 * repaired, delivered as Eventarc Pub/Sub CloudEvents to the real auditEvents function served by
 * functions-framework in this process, with a memory store. What Slack and PagerDuty receive is shown
 * here; with SLACK_BOT_TOKEN and SLACK_CHANNEL (or PAGERDUTY_ROUTING_KEY) set, it is also sent.
 */
export async function demoCommand(
  args: string[],
  io: Io,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { fast: { type: 'boolean' }, verbose: { type: 'boolean', short: 'v' } },
  });
  const config = loadConfig(env);
  let printed = 0;
  const print = (text: string) => {
    printed += 1;
    io.stdout(text);
  };
  const store = createMemoryStore();
  let snapshot: Snapshot = demoOrganization();
  const senders = sendersFromConfig(config, { terminal: print });
  if (config.SLACK_BOT_TOKEN && senders.slack) senders.slack = tee(senders.slack, createTerminalSlack(print));
  const logger = values.verbose ? createLogger((line) => io.stderr(`${line}\n`)) : { log() {} };
  cloudEvent(
    'auditEvents',
    createAuditEventsHandler({
      store,
      senders,
      routing: routingFromConfig(config, env, true),
      logger,
      inventory: { current: () => snapshot, update: (next) => (snapshot = next) },
    }),
  );
  const server = getTestServer('auditEvents');
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  try {
    const organization = snapshot.projects[0];
    const clusters = organization?.clusters ?? [];
    print(
      `wi-sentinel demo: project ${PROJECT}, clusters ${clusters.map((c) => `${c.name} (${c.nodePools.map((p) => p.name).join(', ')})`).join(' and ')}; ` +
        `${clusters.reduce((n, c) => n + c.serviceAccounts.length, 0)} WI KSAs, ${clusters.reduce((n, c) => n + c.pods.length, 0)} pods.\n` +
        `Each step is an audit-log entry published as Pub/Sub delivers it to the auditEvents function at ${url}\n`,
    );
    const steps = demoStory();
    for (const [index, step] of steps.entries()) {
      print(`\n── [${index + 1}/${steps.length}] ${step.narration}\n`);
      const earlier = 'repeat' in step ? steps[step.repeat] : step;
      const entry = earlier && 'entry' in earlier ? earlier.entry : undefined;
      if (entry === undefined) throw new Error(`demo step ${index + 1} repeats no entry`);
      const before = printed;
      const status = await publish(url, entry, index);
      if (status >= 300) print(`   (the function answered ${status}: Pub/Sub would redeliver)\n`);
      else if (printed === before) print('   acknowledged: nothing new to tell anyone\n');
      if (!values.fast) await pause(600);
    }
    print(`\n── /wi-status\n${renderSummaryText(summarize(await store.listOpen(), snapshot))}\n`);
    return 0;
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

/** Posts the entry as the audit topic's push subscription delivers it (infra/): JSON, base64 data. */
async function publish(url: string, entry: unknown, index: number): Promise<number> {
  const timestamp = (entry as { timestamp?: string }).timestamp ?? new Date().toISOString();
  // The endpoint's path names the topic, as infra/pubsub.tf's push_endpoint does.
  const response = await fetch(`${url}/projects/${PROJECT}/topics/wi-sentinel-audit`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      message: {
        data: Buffer.from(`${JSON.stringify(entry)}\n`).toString('base64'),
        attributes: { 'logging.googleapis.com/timestamp': timestamp },
        messageId: `demo-message-${index + 1}`,
        publishTime: timestamp,
      },
      subscription: `projects/${PROJECT}/subscriptions/wi-sentinel-audit-events-push`,
    }),
  });
  await response.arrayBuffer();
  return response.status;
}

/** Sends for real and shows it here too. */
function tee(real: SlackSender, terminal: SlackSender): SlackSender {
  return {
    async send(channel, delivery) {
      const where = await real.send(channel, delivery);
      await terminal.send(channel, delivery);
      return where;
    },
    async reply(standing, message) {
      await real.reply?.(standing, message);
      await terminal.reply?.(standing, message);
    },
  };
}
