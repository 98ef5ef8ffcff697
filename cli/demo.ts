import type { AddressInfo } from 'node:net';
import { setTimeout as pause } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { cloudEvent } from '@google-cloud/functions-framework';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import { createAuditEventsHandler } from '../functions/audit-events.ts';
import { createAlerting } from '../shared/alerting/alerting.ts';
import { loadConfig } from '../shared/config.ts';
import { createMemoryStore } from '../shared/incidents/memory-store.ts';
import type { IncidentStore } from '../shared/incidents/store.ts';
import { applyChange } from '../shared/inventory/apply.ts';
import type { Snapshot } from '../shared/inventory/snapshot.ts';
import { snapshotState } from '../shared/live/snapshot-state.ts';
import type { Logger } from '../shared/log.ts';
import { createLogger } from '../shared/log.ts';
import type { Routing } from '../shared/notify/routing.ts';
import { createTerminalSlack } from '../shared/notify/terminal.ts';
import type { Senders, SlackSender } from '../shared/notify/types.ts';
import { analyze } from '../shared/pipeline.ts';
import { incidentRunner } from '../shared/slack/incident-actions.ts';
import { createPermissionCheck } from '../shared/slack/permission.ts';
import { renderDocText } from '../shared/status/doc.ts';
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
  const routing = routingFromConfig(config, env, true);
  cloudEvent(
    'auditEvents',
    createAuditEventsHandler({
      store,
      senders,
      routing,
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
    await onCall(steps, {
      url,
      print,
      store,
      senders,
      routing,
      logger,
      snapshot: () => snapshot,
      evolve: (next) => (snapshot = next),
      fast: values.fast === true,
    });
    return 0;
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

/** The demo's on-call engineer, allowed to silence (SLACK_ALLOWED_USERS, as deployed). */
const ON_CALL = { userId: 'U0DEMOALICE', userName: 'alice' };

/**
 * The epilogue: the binding is removed again and pages; on call, alice acts from the message as
 * Slack would send her presses to wiStatus and wiCommands would run them (the same runner, here in
 * this process): Acknowledge (the message edited, PagerDuty acknowledged), Re-check now while it is
 * still broken (the chain in the thread), then again once bob has put the binding back by hand
 * before its audit entry arrived (the repair confirmed, the incident resolved).
 */
async function onCall(
  steps: ReturnType<typeof demoStory>,
  demo: {
    url: string;
    print: (text: string) => void;
    store: IncidentStore;
    senders: Senders;
    routing: Routing;
    logger: Logger;
    snapshot: () => Snapshot;
    evolve: (next: Snapshot) => void;
    fast: boolean;
  },
): Promise<void> {
  const { print, store } = demo;
  const removal = steps.find((s) => 'entry' in s && /removes a binding/.test(s.narration));
  const restore = steps.find((s) => 'entry' in s && /restores the binding/.test(s.narration));
  if (!removal || !('entry' in removal) || !restore || !('entry' in restore)) return;
  print('\n── on call, from the Slack message\n');
  print('\n── bob@acme.example removes the orders/worker binding again\n');
  const again = { ...removal.entry, insertId: `${String(removal.entry.insertId)}-again` };
  await publish(demo.url, again, steps.length);
  const incident = (await store.listOpen()).find((i) => i.kind === 'binding-missing');
  if (incident === undefined) return;
  const alerting = createAlerting({
    store,
    senders: demo.senders,
    routing: demo.routing,
    logger: demo.logger,
    inventory: { current: demo.snapshot, update: demo.evolve },
  });
  const run = incidentRunner({
    store,
    permission: createPermissionCheck({ users: [ON_CALL.userId] }, undefined),
    tell: { senders: demo.senders, routing: demo.routing },
    applyFindings: (findings, key) => alerting.applyFindings(findings, key),
    live: snapshotState(demo.snapshot),
    inventory: async () => demo.snapshot(),
    source: 'the simulated organization',
    logger: demo.logger,
  });
  let presses = 0;
  const press = async (action: 'ack' | 'recheck', narration: string) => {
    presses += 1;
    print(`\n── ${narration}\n`);
    const requestedAt = new Date().toISOString();
    const answer = await run(
      { kind: 'incident', action, incidentId: incident.id },
      {
        now: new Date(requestedAt),
        command: {
          v: 1,
          id: `demo-press-${presses}-${action}`,
          requestedAt,
          task: { kind: 'incident', action, incidentId: incident.id },
          slack: {
            teamId: 'T0DEMO',
            ...ON_CALL,
            responseUrl: 'https://hooks.slack.com/actions/T0DEMO/1/demo',
            responseType: 'ephemeral',
          },
        },
      },
    );
    if (answer) print(`[Slack] only alice sees:\n${renderDocText(answer)}\n`);
    if (!demo.fast) await pause(600);
  };
  await press('ack', 'alice@acme.example presses Acknowledge on the message');
  await press('recheck', 'alice@acme.example presses Re-check now: still broken?');
  const restored = analyze(restore.entry, demo.snapshot());
  if (restored.outcome === 'change') demo.evolve(applyChange(demo.snapshot(), restored.event));
  await press('recheck', 'bob@acme.example puts the binding back by hand; alice presses Re-check now again');
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
