import { parseArgs } from 'node:util';
import { createAlerting, type HandleResult, RetryableDeliveryError } from '../shared/alerting.ts';
import { loadConfig } from '../shared/config.ts';
import { createMemoryStore } from '../shared/incidents/memory-store.ts';
import type { Snapshot } from '../shared/inventory/snapshot.ts';
import { readSnapshotFile } from '../shared/inventory/snapshot-file.ts';
import { createLogger } from '../shared/log.ts';
import { routingFromConfig, sendersFromConfig } from '../shared/wiring.ts';
import { type Io, readDeliveries } from './io.ts';
import { UsageError } from './usage.ts';

/**
 * The whole pipeline in one process: each delivery is decoded, judged against the organization as it
 * stands (the snapshot, evolved by every change replayed before it), turned into incidents in a memory
 * store and notified to the configured Slack / PagerDuty, or printed here when none is configured.
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
  const alerting = createAlerting({
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
