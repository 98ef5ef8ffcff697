// Cloud Functions entry: registers each function by name with functions-framework. Thin on purpose:
// configuration and wiring here, logic in shared/. Loading this file loads no Google client library.
import { cloudEvent } from '@google-cloud/functions-framework';
import { loadConfig } from '../shared/config.ts';
import { readSnapshotFile } from '../shared/inventory/snapshot-file.ts';
import { createLogger } from '../shared/log.ts';
import { createAuditEventsHandler } from './audit-events.ts';

// A bad environment or snapshot stops start-up here, with a message naming what is wrong.
const config = loadConfig();
const snapshot = config.WI_SNAPSHOT ? readSnapshotFile(config.WI_SNAPSHOT) : undefined;
const logger = createLogger();

cloudEvent('auditEvents', createAuditEventsHandler({ logger, ...(snapshot ? { snapshot } : {}) }));
