import { parseArgs } from 'node:util';
import { createAlerting } from '../shared/alerting/alerting.ts';
import { type Config, loadConfig, PROJECT_ID } from '../shared/config.ts';
import { readSnapshotFile } from '../shared/live/snapshot-file.ts';
import { createLogger } from '../shared/log.ts';
import { assetInventory, directInventory, scopesOf } from '../shared/reconcile/live-inventory.ts';
import { runSweep, type SweptInventory, summaryLine } from '../shared/reconcile/run.ts';
import { routingFromConfig, sendersFromConfig, storeFromConfig } from '../shared/wiring.ts';
import type { Io } from './io.ts';
import { UsageError } from './io.ts';
import { type LiveStateFactory, liveStateOf } from './live.ts';

/**
 * The sweep from the command line. The inventory is `--snapshot FILE`, else live state of the
 * `--scope`s and `--project`s (repeatable; else WI_SNAPSHOT, else WI_SCOPE, else WI_PROJECTS or
 * GOOGLE_CLOUD_PROJECT), read through Cloud Asset Inventory (each object directly with `--direct`,
 * or when the index cannot be used, which stderr says with the command that repairs it). With
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
      scope: { type: 'string', multiple: true },
      direct: { type: 'boolean' },
      snapshot: { type: 'string' },
      'dry-run': { type: 'boolean' },
      verbose: { type: 'boolean', short: 'v' },
    },
    allowPositionals: true,
  });
  if (positionals.length > 0)
    throw new UsageError(`reconcile takes no positional argument, got ${positionals.join(' ')}`);
  if (values.snapshot && (values.project || values.scope))
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
  if (report.fallback) {
    io.stderr(`Cloud Asset Inventory not used: ${report.fallback.reason}; read each object directly\n`);
    for (const step of report.fallback.remediation) io.stderr(`  ${step.title}:\n    ${step.command}\n`);
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
  values: {
    project?: string[] | undefined;
    scope?: string[] | undefined;
    snapshot?: string | undefined;
    direct?: boolean | undefined;
  },
  config: Config,
  io: Io,
  live: LiveStateFactory,
): Promise<() => Promise<SweptInventory>> {
  const file = values.snapshot ?? (values.project || values.scope ? undefined : config.WI_SNAPSHOT);
  if (file !== undefined) {
    const snapshot = readSnapshotFile(file);
    return async () => ({ snapshot, problems: [], source: 'snapshot' });
  }
  const bad = (values.project ?? []).filter((project) => !PROJECT_ID.test(project));
  if (bad.length > 0) throw new UsageError(`not a project id: ${bad.join(', ')}`);
  const badScopes = (values.scope ?? []).filter((scope) => !SCOPE.test(scope));
  if (badScopes.length > 0)
    throw new UsageError(`not a scope (organizations/N, folders/N, projects/P): ${badScopes.join(', ')}`);
  const given = [...(values.scope ?? []), ...(values.project ?? []).map((project) => `projects/${project}`)];
  const scopes = [...new Set(given.length > 0 ? given : scopesOf(config))];
  if (scopes.length === 0)
    throw new UsageError(
      'name what to sweep: --snapshot FILE or --project P, or --scope S (or set WI_PROJECTS or WI_SCOPE)',
    );
  const [state, { scopeReadersFromConfig }, { ownIdentity }] = await Promise.all([
    live(config),
    import('../shared/gcp/live.ts'),
    import('../shared/reconcile/check-adapters.ts'),
  ]);
  const readers = { state, ...scopeReadersFromConfig(config) };
  const options = { onProgress: (line: string) => io.stderr(`${line}\n`) };
  if (values.direct) return directInventory(readers, scopes, options);
  return assetInventory(readers, scopes, {
    ...options,
    ...(config.GOOGLE_CLOUD_PROJECT ? { consumerProject: config.GOOGLE_CLOUD_PROJECT } : {}),
    identity: () => ownIdentity(config),
  });
}

/** A sweep scope as WI_SCOPE takes it. */
const SCOPE = /^(organizations\/\d+|folders\/\d+|projects\/[a-z][a-z0-9-]{4,28}[a-z0-9])$/;
