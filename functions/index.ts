// Cloud Functions entry: registers each function by name with functions-framework. Thin on purpose:
// configuration and wiring here, logic in shared/. Loading this file loads no Google client library.
import { cloudEvent } from '@google-cloud/functions-framework';
import { loadConfig } from '../shared/config.ts';
import type { Snapshot } from '../shared/inventory/snapshot.ts';
import { readSnapshotFile } from '../shared/inventory/snapshot-file.ts';
import { createLogger } from '../shared/log.ts';
import { routingFromConfig, sendersFromConfig, storeFromConfig } from '../shared/wiring.ts';
import { createAuditEventsHandler } from './audit-events.ts';

// A bad environment, routing file or snapshot stops start-up here, with a message naming what is wrong.
const config = loadConfig();
const logger = createLogger();
let snapshot: Snapshot | undefined = config.WI_SNAPSHOT ? readSnapshotFile(config.WI_SNAPSHOT) : undefined;

cloudEvent(
  'auditEvents',
  createAuditEventsHandler({
    store: storeFromConfig(config),
    senders: sendersFromConfig(config, { logger }),
    routing: routingFromConfig(config, process.env),
    logger,
    ...(snapshot ? { inventory: { current: () => snapshot, update: (next) => (snapshot = next) } } : {}),
  }),
);
