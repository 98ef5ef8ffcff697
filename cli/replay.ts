import { parseArgs } from 'node:util';
import { createAlerting } from '../shared/alerting/alerting.ts';
import { type HandleResult, RetryableDeliveryError } from '../shared/alerting/delivery.ts';
import { loadConfig } from '../shared/config.ts';
import { decodeText } from '../shared/events/decode.ts';
import { decodeMonitoringNotification } from '../shared/events/monitoring.ts';
import { createMemoryStore } from '../shared/incidents/memory-store.ts';
import type { Snapshot } from '../shared/inventory/snapshot.ts';
import { readSnapshotFile } from '../shared/live/snapshot-file.ts';
import { createLogger } from '../shared/log.ts';
import { entryJsonOf } from '../shared/symptoms/prescreen.ts';
import { routingFromConfig, sendersFromConfig } from '../shared/wiring.ts';
import { type Io, readDeliveries, UsageError } from './io.ts';

/**
 * The whole pipeline in one process: each delivery is decoded, judged against the organization as it
 * stands (the snapshot, evolved by every change replayed before it), turned into incidents in a memory
 * store and notified to the configured Slack / PagerDuty, or printed here when none is configured.
 * Container logs and Monitoring notifications take the symptom path, as in auditEvents: grouped per
 * KSA, attached as evidence to the incidents that explain them, or opening wi-auth-failures. The clock
 * is the story's (each delivery's own time), so windows, grace periods and the once-a-minute evidence
 * refresh behave as they would have live.
 */
export async function replayCommand(
  args: string[],
  io: Io,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { snapshot: { type: 'string' }, verbose: { type: 'boolean', short: 'v' } },
    allowPositionals: true,
  });
  if (!values.snapshot)
    throw new UsageError('replay needs --snapshot FILE: the organization before the first event');
  if (positionals.length > 1) throw new UsageError(`replay takes one input file, got ${positionals.length}`);
  const config = loadConfig(env);
  let snapshot: Snapshot = readSnapshotFile(values.snapshot);
  const print = (text: string) => io.stdout(text);
  const logger = values.verbose ? createLogger((line) => io.stderr(`${line}\n`)) : { log() {} };
  let clock: Date | undefined;
  const alerting = createAlerting({
    now: () => clock ?? new Date(),
    symptoms: {},
    store: createMemoryStore(),
    senders: sendersFromConfig(config, { terminal: print, logger }),
    routing: routingFromConfig(config, env, true),
    logger,
    inventory: { current: () => snapshot, update: (next) => (snapshot = next) },
  });
  const totals = {
    lines: 0,
    findings: 0,
    invalid: 0,
    duplicates: 0,
    opened: 0,
    updated: 0,
    resolved: 0,
    sent: 0,
  };
  for await (const { where, text } of readDeliveries(positionals[0], io)) {
    if (text.trim() === '') continue;
    totals.lines += 1;
    const at = timeOf(text);
    // Never backwards: an entry logged late does not rewind what already happened.
    if (at !== undefined && (clock === undefined || at > clock)) clock = at;
    let result: HandleResult;
    try {
      result = await alerting.handle(text);
    } catch (error) {
      if (!(error instanceof RetryableDeliveryError)) throw error;
      io.stderr(`${where}: delivery failed (${error.message}); the rest goes on\n`);
      continue;
    }
    if (result.outcome === 'invalid') {
      totals.invalid += 1;
      io.stderr(`${where}: ${result.reason}\n`);
    }
    if (result.outcome === 'duplicate') totals.duplicates += 1;
    totals.findings += result.findings.length;
    for (const { transition, sent } of result.incidents) {
      if (transition) totals[transition] += 1;
      totals.sent += sent.length;
    }
  }
  io.stdout(
    `\nreplayed ${totals.lines} deliveries: ${totals.findings} findings; incidents ${totals.opened} opened, ${totals.updated} updated, ${totals.resolved} resolved; ${totals.sent} notifications; ${totals.duplicates} duplicates, ${totals.invalid} undecodable\n`,
  );
  return totals.invalid > 0 ? 2 : 0;
}

/** When a delivery happened: its log entry's time, or when a Monitoring incident opened or closed. */
function timeOf(text: string): Date | undefined {
  const decoded = decodeText(text);
  let time: string | undefined;
  if (decoded.ok) {
    time = decoded.delivery.entry.timestamp ?? decoded.delivery.entry.receiveTimestamp;
  } else {
    const value = parse(text);
    const inner = entryJsonOf(value);
    const notification = decodeMonitoringNotification(inner === undefined ? value : parse(inner));
    if (notification.type === 'alert') time = notification.alert.endedAt ?? notification.alert.startedAt;
  }
  const at = time === undefined ? Number.NaN : Date.parse(time);
  return Number.isNaN(at) ? undefined : new Date(at);
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
