import { parseArgs } from 'node:util';
import { createAlerting } from '../shared/alerting/alerting.ts';
import { type Config, loadConfig, PROJECT_ID } from '../shared/config.ts';
import { readSnapshotFile } from '../shared/live/snapshot-file.ts';
import { createLogger } from '../shared/log.ts';
import { liveInventory } from '../shared/reconcile/live-inventory.ts';
import { runSweep, type SweptInventory, summaryLine } from '../shared/reconcile/run.ts';
import { routingFromConfig, sendersFromConfig, storeFromConfig } from '../shared/wiring.ts';
import type { Io } from './io.ts';
import { UsageError } from './io.ts';
import { type LiveStateFactory, liveStateOf } from './live.ts';

/**
 * The sweep from the command line. The inventory is `--snapshot FILE`, else live state of the
 * `--project`s (repeatable; else WI_SNAPSHOT, else WI_PROJECTS or GOOGLE_CLOUD_PROJECT). With
 * `--dry-run` it changes nothing and prints one Finding per line: every broken link, then a
 * `resolved` one for each open incident it finds healthy. Without it, the verdict goes through the
 * store (WI_STATE, memory by default) to Slack and PagerDuty as configured, printed here when they
 * are not. Progress, problems and the summary go to stderr (the summary to stdout when applying).
 * Exit 0 when everything was read and applied, 1 when something could not be read (the rest is
 * still judged) or a notification must be retried, 2 on bad usage or configuration.
 */
export async function reconcileCommand(
  args: string[],
  io: Io,
  env: NodeJS.ProcessEnv = process.env,
  live: LiveStateFactory = liveStateOf,
): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      project: { type: 'string', multiple: true },
      snapshot: { type: 'string' },
      'dry-run': { type: 'boolean' },
      verbose: { type: 'boolean', short: 'v' },
    },
    allowPositionals: true,
  });
  if (positionals.length > 0)
    throw new UsageError(`reconcile takes no positional argument, got ${positionals.join(' ')}`);
  if (values.snapshot && values.project)
    throw new UsageError('reconcile sweeps --snapshot FILE or live --project P, not both');
  const config = loadConfig(env);
  const dryRun = values['dry-run'] === true;
  const logger = values.verbose ? createLogger((line) => io.stderr(`${line}\n`)) : { log() {} };
  const inventory = await inventoryOf(values, config, io, live);

  const print = (text: string) => io.stdout(text);
  const store = storeFromConfig(config);
  const alerting = createAlerting({
    store,
    senders: sendersFromConfig(config, { terminal: print, logger }),
    routing: routingFromConfig(config, env, true),
    logger,
  });
  const report = await runSweep({ inventory, alerting, store, dryRun, logger });

  if (dryRun) {
    for (const finding of [...report.findings, ...report.resolved]) io.stdout(`${JSON.stringify(finding)}\n`);
  }
  for (const problem of report.problems) io.stderr(`problem: ${problem.message}\n`);
  for (const { fingerprint, reason } of report.untouched) io.stderr(`left open: ${fingerprint}: ${reason}\n`);
  for (const error of report.retryable) io.stderr(`to retry: ${error.message}\n`);
  const summary = `${summaryLine(report.counts, report.projects, dryRun)}\n`;
  if (dryRun) io.stderr(summary);
  else io.stdout(`\n${summary}`);
  return report.problems.length > 0 || report.retryable.length > 0 ? 1 : 0;
}

async function inventoryOf(
  values: { project?: string[] | undefined; snapshot?: string | undefined },
  config: Config,
  io: Io,
  live: LiveStateFactory,
): Promise<() => Promise<SweptInventory>> {
  const file = values.snapshot ?? (values.project ? undefined : config.WI_SNAPSHOT);
  if (file !== undefined) {
    const snapshot = readSnapshotFile(file);
    return async () => ({ snapshot, problems: [] });
  }
  const projects = [
    ...new Set(
      values.project ??
        config.WI_PROJECTS ??
        (config.GOOGLE_CLOUD_PROJECT ? [config.GOOGLE_CLOUD_PROJECT] : []),
    ),
  ];
  if (projects.length === 0)
    throw new UsageError('name what to sweep: --snapshot FILE or --project P (or set WI_PROJECTS)');
  const bad = projects.filter((project) => !PROJECT_ID.test(project));
  if (bad.length > 0) throw new UsageError(`not a project id: ${bad.join(', ')}`);
  const state = await live(config);
  return liveInventory(state, projects, { onProgress: (line) => io.stderr(`${line}\n`) });
}
