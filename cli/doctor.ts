import { parseArgs } from 'node:util';
import { type Config, loadConfig, PROJECT_ID } from '../shared/config.ts';
import type { Remediation } from '../shared/domain/finding.ts';
import type { IncidentStore } from '../shared/incidents/store.ts';
import type { CheckResult, SelfCheckPorts } from '../shared/reconcile/checks.ts';
import type { DeploymentPorts } from '../shared/reconcile/deployment-checks.ts';
import { type Io, UsageError } from './io.ts';

/**
 * What a deployment lacks, checked on demand from a laptop with Application Default Credentials (or
 * GOOGLE_OAUTH_ACCESS_TOKEN): the sweep's own self-checks and the deployment's (deployment-checks.ts),
 * one line each, ✓ passed, ✗ failed (with the command or Terraform change that repairs it), ? could
 * not be checked. The deployment is found in `--host` (default GOOGLE_CLOUD_PROJECT, else the first
 * `--project`) by the names infra/ gives it (`--prefix`, default wi-sentinel); what it watches (its
 * sinks, topic, projects, database) is read from the deployed reconcile function's environment, and
 * `--project` names the watched projects instead. Exit 0 when every check passed, 1 when one failed,
 * 3 when none failed but one could not be checked, 2 on bad usage.
 */
export type DoctorStore = Pick<IncidentStore, 'lastDelivery' | 'inventoryMeta'> & {
  close?: () => Promise<void>;
};

export interface DoctorDeps {
  ports?: (config: Config) => SelfCheckPorts & DeploymentPorts;
  /** The state store the deployment keeps (default: as its configuration says: Firestore). */
  store?: (config: Config) => DoctorStore;
  now?: () => Date;
}

/** The deployment's own configuration that doctor takes from the reconcile function's environment. */
const DEPLOYED_KEYS = [
  'GOOGLE_CLOUD_PROJECT',
  'WI_PROJECTS',
  'WI_SINK',
  'WI_WORKLOAD_SINK',
  'WI_AUDIT_TOPIC',
  'WI_COMMANDS_TOPIC',
  'WI_STATE',
  'WI_FIRESTORE_DATABASE',
  'WI_FIRESTORE_PREFIX',
] as const;

const MARK: Record<CheckResult['status'], string> = { healthy: '✓', failing: '✗', unknown: '?' };

export async function doctorCommand(
  args: string[],
  io: Io,
  env: NodeJS.ProcessEnv = process.env,
  deps: DoctorDeps = {},
): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      project: { type: 'string', multiple: true },
      host: { type: 'string' },
      prefix: { type: 'string', default: 'wi-sentinel' },
      json: { type: 'boolean' },
    },
    allowPositionals: true,
  });
  if (positionals.length > 0)
    throw new UsageError(`doctor takes no positional argument, got ${positionals.join(' ')}`);
  const local = loadConfig(env);
  const host = values.host ?? local.GOOGLE_CLOUD_PROJECT ?? values.project?.[0];
  if (host === undefined) {
    throw new UsageError(
      'name the project wi-sentinel runs in: --host P (or GOOGLE_CLOUD_PROJECT, or --project P)',
    );
  }
  const bad = [host, ...(values.project ?? [])].filter((project) => !PROJECT_ID.test(project));
  if (bad.length > 0) throw new UsageError(`not a project id: ${bad.join(', ')}`);
  if (!/^[a-z][a-z0-9-]{2,18}[a-z0-9]$/.test(values.prefix)) {
    throw new UsageError(`--prefix ${JSON.stringify(values.prefix)} is not a name_prefix infra/ accepts`);
  }

  // Loaded here, not at start-up: no other command needs them.
  const [{ deploymentNames }, { doctorChecks, findDeployment }, adapters] = await Promise.all([
    import('../shared/reconcile/deployment.ts'),
    import('../shared/reconcile/deployment-checks.ts'),
    import('../shared/reconcile/check-adapters.ts'),
  ]);
  const ports = (deps.ports ?? adapters.doctorPortsFromConfig)(local);
  const now = (deps.now ?? (() => new Date()))();
  const names = deploymentNames(values.prefix);
  const deployment = await findDeployment(ports, host, names);

  // What the deployment watches is its own configuration; the local one only says where the APIs are.
  const reconcile = deployment.functions.reconcile;
  const deployedEnv = Object.fromEntries(
    DEPLOYED_KEYS.flatMap((key) =>
      reconcile?.environment[key] === undefined ? [] : [[key, reconcile.environment[key]]],
    ),
  );
  const config = loadConfig({
    ...env,
    GOOGLE_CLOUD_PROJECT: host,
    ...deployedEnv,
    ...(values.project ? { WI_PROJECTS: [...new Set(values.project)].join(',') } : {}),
  });
  const target = adapters.selfCheckTargetFromConfig(config, reconcile?.serviceAccount);
  const deliveries = await readDeliveries(config, deps, target.topic);

  const results = await doctorChecks(ports, deployment, target, { now, deliveries });
  const failed = results.filter((r) => r.status === 'failing').length;
  const unchecked = results.filter((r) => r.status === 'unknown').length;
  const code = failed > 0 ? 1 : unchecked > 0 ? 3 : 0;
  const summary = { passed: results.length - failed - unchecked, failed, unknown: unchecked };
  if (values.json) {
    io.stdout(
      `${JSON.stringify({ host, prefix: values.prefix, projects: target.projects, ...(reconcile ? {} : { deploymentConfig: 'local' }), summary, exit: code, results })}\n`,
    );
    return code;
  }
  io.stdout(
    `wi-sentinel doctor: ${host} (prefix ${values.prefix}), watching ${target.projects.join(', ') || 'no project'}${reconcile ? '' : ' (reconcile not found: its configuration taken from this environment)'}\n`,
  );
  for (const result of results) io.stdout(render(result));
  io.stdout(`${summary.passed} passed, ${failed} failed, ${unchecked} could not be checked\n`);
  return code;
}

function render(result: CheckResult): string {
  const lines = [`${MARK[result.status]} ${result.check}: ${result.summary}`];
  for (const step of result.remediation ?? []) lines.push(...renderStep(step));
  return `${lines.join('\n')}\n`;
}

function renderStep(step: Remediation): string[] {
  return [`    ${step.title}`, ...(step.command ? [`      ${step.command}`] : [])];
}

/** The store's evidence of deliveries, or why it could not be read (a check that could not run). */
async function readDeliveries(
  config: Config,
  deps: DoctorDeps,
  topic: string,
): Promise<{ lastDelivery?: string; watchingSince?: string } | CheckResult> {
  const project = /^projects\/([^/]+)\//.exec(topic)?.[1] ?? config.GOOGLE_CLOUD_PROJECT ?? '';
  const cannot = (why: string): CheckResult => ({
    check: 'deliveries',
    project,
    status: 'unknown',
    summary: `could not tell whether audit entries arrive: ${why}`,
  });
  if (deps.store === undefined && config.WI_STATE !== 'firestore') {
    return cannot('the deployment keeps no state to read deliveries from (WI_STATE is memory)');
  }
  let store: DoctorStore | undefined;
  try {
    store = deps.store ? deps.store(config) : (await import('../shared/wiring.ts')).storeFromConfig(config);
    const [lastDelivery, previous] = await Promise.all([store.lastDelivery(), store.inventoryMeta()]);
    return {
      ...(lastDelivery ? { lastDelivery } : {}),
      ...(previous ? { watchingSince: previous.sweptAt } : {}),
    };
  } catch (error) {
    return cannot(`its state could not be read (${(error as Error).message})`);
  } finally {
    await store?.close?.().catch(() => {});
  }
}
