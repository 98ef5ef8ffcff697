// Cloud Functions entry: registers each function by name with functions-framework. Thin on purpose:
// configuration and wiring here, logic in shared/. Loading this file loads no Google client library.
import { cloudEvent, http } from '@google-cloud/functions-framework';
import { loadConfig } from '../shared/config.ts';
import { liveStateFromConfig, scopeReadersFromConfig } from '../shared/gcp/live.ts';
import { lastKnownInventory } from '../shared/incidents/last-known.ts';
import type { Snapshot } from '../shared/inventory/snapshot.ts';
import { readSnapshotFile } from '../shared/live/snapshot-file.ts';
import { snapshotState } from '../shared/live/snapshot-state.ts';
import { createLogger } from '../shared/log.ts';
import { MAX_WEBHOOK_BYTES } from '../shared/notify/pagerduty-webhook.ts';
import { MAX_BODY_BYTES } from '../shared/slack/verify.ts';
import { routingFromConfig, sendersFromConfig, storeFromConfig } from '../shared/wiring.ts';
import { createAuditEventsHandler } from './audit-events.ts';
import { EVENT_BOUNDS, installBodyGate, servedTarget } from './body-gate.ts';
import { lazily } from './lazy.ts';

// A bad environment, routing file or snapshot stops start-up here, with a message naming what is wrong.
const config = loadConfig();
const logger = createLogger();

// Every body is bounded before functions-framework's parsers would read it (body-gate.ts): wiStatus
// gets the raw bytes of at most one slash command, the event functions a Pub/Sub message's worth.
const target = servedTarget(process.argv, process.env);
// pagerdutyWebhook gets the raw bytes of one PagerDuty event, signed as they are.
if (target !== undefined) {
  installBodyGate(
    target === 'wiStatus'
      ? { kind: 'raw', maxBytes: MAX_BODY_BYTES, readTimeoutMs: 10_000 }
      : target === 'pagerdutyWebhook'
        ? { kind: 'raw', maxBytes: MAX_WEBHOOK_BYTES, readTimeoutMs: 10_000 }
        : EVENT_BOUNDS,
    logger,
    target,
  );
}
let snapshot: Snapshot | undefined = config.WI_SNAPSHOT ? readSnapshotFile(config.WI_SNAPSHOT) : undefined;

// One store and one live state per instance: their clients and caches are shared by the functions.
const store = storeFromConfig(config);
// A simulated organization is its own live state; otherwise Google's and Kubernetes' APIs are.
const live = snapshot ? snapshotState(() => snapshot) : liveStateFromConfig(config);
const lastKnown = lastKnownInventory(store);

const alertingDeps = {
  store,
  senders: sendersFromConfig(config, { logger }),
  routing: routingFromConfig(config, process.env),
  logger,
  // Container logs (the workload sink) and Monitoring notifications reach auditEvents too; the sweep
  // resolves quiet symptom incidents through the same path.
  symptoms: {},
};

cloudEvent(
  'auditEvents',
  createAuditEventsHandler({
    ...alertingDeps,
    ...(snapshot
      ? { inventory: { current: () => snapshot, update: (next) => (snapshot = next) } }
      : { live, lastKnown }),
  }),
);

// The scheduled sweep: the simulated organization as it is now, or the watched scope read live
// through Cloud Asset Inventory (directly when it cannot be used).
cloudEvent(
  'reconcile',
  lazily(async () => {
    const [{ createReconcileHandler }, { createAlerting }, { assetInventory, scopesOf }, selfChecks] =
      await Promise.all([
        import('./reconcile.ts'),
        import('../shared/alerting/alerting.ts'),
        import('../shared/reconcile/live-inventory.ts'),
        import('./self-checks.ts'),
      ]);
    return createReconcileHandler({
      alerting: createAlerting(alertingDeps),
      store,
      logger,
      inventory: snapshot
        ? async () => ({ snapshot: snapshot as Snapshot, problems: [], source: 'snapshot' })
        : assetInventory({ state: live, ...scopeReadersFromConfig(config) }, scopesOf(config), {
            ...(config.GOOGLE_CLOUD_PROJECT ? { consumerProject: config.GOOGLE_CLOUD_PROJECT } : {}),
            identity: () => selfChecks.ownIdentity(config),
          }),
      ...(config.GOOGLE_CLOUD_PROJECT ? { checkProject: config.GOOGLE_CLOUD_PROJECT } : {}),
      ...(snapshot ? {} : { selfChecks: () => selfChecks.runFromConfig(config, { store, logger }) }),
    });
  }),
);

// /wi-status: wiStatus answers from stored state and hands what takes longer to wiCommands.
const inventory = async () => snapshot ?? (await lastKnown());
http(
  'wiStatus',
  lazily(async () =>
    (await import('./wi-status.ts')).wiStatusFromConfig(config, { store, inventory, logger }),
  ),
);
cloudEvent(
  'wiCommands',
  lazily(async () =>
    (await import('./wi-commands.ts')).wiCommandsFromConfig(config, {
      store,
      inventory,
      live,
      simulated: snapshot !== undefined,
      logger,
      senders: alertingDeps.senders,
      routing: alertingDeps.routing,
    }),
  ),
);

// PagerDuty's webhooks: acknowledgements, resolves and reassignments made there, shown on the message.
http(
  'pagerdutyWebhook',
  lazily(async () =>
    (await import('./pagerduty-webhook.ts')).pagerdutyWebhookFromConfig(config, {
      store,
      senders: alertingDeps.senders,
      routing: alertingDeps.routing,
      logger,
    }),
  ),
);
