import { parseArgs } from 'node:util';
import { loadConfig, PROJECT_ID } from '../shared/config.ts';
import type { Snapshot } from '../shared/inventory/snapshot.ts';
import { type ExportProblem, exportSnapshot } from '../shared/live/export.ts';
import type { Io } from './io.ts';
import { UsageError } from './io.ts';
import { type LiveStateFactory, liveStateOf } from './live.ts';

/**
 * Exports live state as a Snapshot on stdout (indented; one line with `--json`). Progress and
 * problems go to stderr (JSON lines with `--json`). Projects: `--project`, repeatable, else
 * WI_PROJECTS, else GOOGLE_CLOUD_PROJECT. Exit 0 when everything was read, 1 when problems left the
 * Snapshot partial (it is still printed), 2 on bad usage.
 */
export async function snapshotCommand(
  args: string[],
  io: Io,
  env: NodeJS.ProcessEnv = process.env,
  live: LiveStateFactory = liveStateOf,
): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      project: { type: 'string', multiple: true },
      json: { type: 'boolean' },
      concurrency: { type: 'string' },
    },
    allowPositionals: true,
  });
  if (positionals.length > 0)
    throw new UsageError(`snapshot takes no positional argument, got ${positionals.join(' ')}`);
  const config = loadConfig(env);
  const projects =
    values.project ??
    config.WI_PROJECTS ??
    (config.GOOGLE_CLOUD_PROJECT ? [config.GOOGLE_CLOUD_PROJECT] : []);
  if (projects.length === 0) throw new UsageError('name a project: --project P (or set WI_PROJECTS)');
  const bad = projects.filter((project) => !PROJECT_ID.test(project));
  if (bad.length > 0) throw new UsageError(`not a project id: ${bad.join(', ')}`);
  const concurrency = values.concurrency === undefined ? undefined : Number(values.concurrency);
  if (concurrency !== undefined && !(Number.isInteger(concurrency) && concurrency > 0)) {
    throw new UsageError('--concurrency must be a positive whole number');
  }

  const json = values.json === true;
  const say = (line: string) => io.stderr(json ? `${JSON.stringify({ progress: line })}\n` : `${line}\n`);
  const state = await live(config);
  const { snapshot, problems } = await exportSnapshot(state, [...new Set(projects)], {
    onProgress: say,
    ...(concurrency ? { concurrency } : {}),
  });
  io.stdout(json ? `${JSON.stringify(snapshot)}\n` : `${JSON.stringify(snapshot, null, 2)}\n`);
  for (const problem of problems) {
    io.stderr(json ? `${JSON.stringify({ problem })}\n` : `problem: ${describe(problem)}\n`);
  }
  say(summary(snapshot, problems));
  return problems.length > 0 ? 1 : 0;
}

function describe(problem: ExportProblem): string {
  const missing = problem.permission ? ` [wi-sentinel lacks ${problem.permission}]` : '';
  return `${problem.project}: ${problem.what}: ${problem.reason}${missing}`;
}

export function summary(snapshot: Snapshot, problems: readonly ExportProblem[]): string {
  const clusters = snapshot.projects.flatMap((project) => project.clusters);
  const totals = [
    `${snapshot.projects.length} project(s)`,
    `${clusters.length} cluster(s)`,
    `${clusters.reduce((n, cluster) => n + cluster.serviceAccounts.length, 0)} KSA(s)`,
    `${clusters.reduce((n, cluster) => n + cluster.pods.length, 0)} running pod(s)`,
    `${snapshot.projects.reduce((n, project) => n + project.serviceAccounts.length, 0)} GSA(s)`,
  ].join(', ');
  return problems.length > 0
    ? `partial export: ${totals}; ${problems.length} problem(s) above`
    : `exported ${totals}`;
}
