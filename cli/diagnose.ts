import { parseArgs } from 'node:util';
import type { ChainReport } from '../shared/chain/report.ts';
import { loadConfig, PROJECT_ID } from '../shared/config.ts';
import type { LiveState } from '../shared/gcp/ports.ts';
import { type DiagnoseTarget, diagnose } from '../shared/live/diagnose.ts';
import { renderChainText } from '../shared/live/diagnose-render.ts';
import { readSnapshotFile } from '../shared/live/snapshot-file.ts';
import { snapshotState } from '../shared/live/snapshot-state.ts';
import type { Io } from './io.ts';
import { UsageError } from './io.ts';
import { type LiveStateFactory, liveStateOf } from './live.ts';

/** Exit codes: every link holds, a link is broken, bad usage, some link could not be checked. */
export const EXIT = { healthy: 0, broken: 1, usage: 2, unchecked: 3 } as const;

// Kubernetes names: a namespace is a DNS label, a service account a DNS subdomain.
const NAMESPACE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const KSA_NAME = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/**
 * Checks every link of one KSA's Workload Identity chain: against a Snapshot file with `--snapshot`,
 * otherwise against live state. Prints a line per link (or the report as JSON with `--json`).
 */
export async function diagnoseCommand(
  args: string[],
  io: Io,
  env: NodeJS.ProcessEnv = process.env,
  live: LiveStateFactory = liveStateOf,
): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      cluster: { type: 'string' },
      location: { type: 'string' },
      project: { type: 'string' },
      json: { type: 'boolean' },
      snapshot: { type: 'string' },
    },
    allowPositionals: true,
  });
  const target = targetOf(positionals, values);
  const state = values.snapshot ? snapshotStateOf(values.snapshot) : await live(loadConfig(env));
  const report = await diagnose(state, target);
  io.stdout(values.json ? `${JSON.stringify(report, null, 2)}\n` : renderChainText(report));
  return exitCodeOf(report);
}

export function exitCodeOf(report: ChainReport): number {
  if (report.links.some((link) => link.status === 'broken')) return EXIT.broken;
  if (report.links.some((link) => link.status === 'unknown')) return EXIT.unchecked;
  return EXIT.healthy;
}

/** The target from the command line; every problem named at once. */
export function targetOf(
  positionals: readonly string[],
  values: { cluster?: string | undefined; location?: string | undefined; project?: string | undefined },
): DiagnoseTarget {
  const problems: string[] = [];
  if (positionals.length !== 1) {
    problems.push(`diagnose takes one NS/KSA (e.g. checkout/cart), got ${positionals.length}`);
  }
  const [namespace = '', name = '', ...rest] = (positionals[0] ?? '').split('/');
  if (positionals.length === 1 && (rest.length > 0 || !NAMESPACE.test(namespace) || !KSA_NAME.test(name))) {
    problems.push(
      `NS/KSA must be a namespace and a service account name joined by /, e.g. checkout/cart; got ${JSON.stringify(positionals[0])}`,
    );
  }
  for (const option of ['cluster', 'location', 'project'] as const) {
    if (!values[option]) problems.push(`--${option} is required`);
  }
  if (values.project && !PROJECT_ID.test(values.project)) {
    problems.push(`--project must be a project id (e.g. orbit-prod); got ${JSON.stringify(values.project)}`);
  }
  if (problems.length > 0) throw new UsageError(problems.join('; '));
  return {
    project: values.project ?? '',
    cluster: { location: values.location ?? '', name: values.cluster ?? '' },
    namespace,
    name,
  };
}

function snapshotStateOf(path: string): LiveState {
  const snapshot = readSnapshotFile(path);
  return snapshotState(() => snapshot);
}
