import { ConfigError } from '../shared/errors.ts';
import { DEMO_USAGE, demoCommand } from './demo.ts';
import { DETECT_USAGE, detectCommand, UsageError } from './detect.ts';
import { DIAGNOSE_USAGE, diagnoseCommand } from './diagnose.ts';
import { DOCTOR_USAGE, doctorCommand } from './doctor.ts';
import { type Io, processIo } from './io.ts';
import { PERMISSIONS_USAGE, permissionsCommand } from './permissions.ts';
import { RECONCILE_USAGE, reconcileCommand } from './reconcile.ts';
import { REPLAY_USAGE, replayCommand } from './replay.ts';
import { SINK_FILTER_USAGE, sinkFilterCommand } from './sink-filter.ts';
import { SNAPSHOT_USAGE, snapshotCommand } from './snapshot.ts';
import { STATUS_USAGE, statusCommand } from './status.ts';

const USAGE = `Usage: wi-sentinel COMMAND

Commands:
  ${DETECT_USAGE}
      Read audit-log deliveries (NDJSON), print one Finding per line.
  ${REPLAY_USAGE}
      The whole pipeline in one process: incidents, Slack and PagerDuty (printed when not configured).
  ${DEMO_USAGE}
      A simulated organization and its incidents, end to end, shown here (no Google account needed).
  ${DIAGNOSE_USAGE}
      Every link of one KSA's Workload Identity chain, with the repair of each broken one
      (exit 0 healthy, 1 broken, 2 bad usage, 3 some link could not be checked).
  ${DOCTOR_USAGE}
      What a deployment lacks: its functions, topics, scheduler job, secrets, sinks, the metadata-server
      metric, wi-sentinel's permissions and recent deliveries, ✓ ✗ ? with the repair of each ✗
      (exit 0 all passed, 1 something failed, 2 bad usage, 3 something could not be checked).
  ${RECONCILE_USAGE}
      The sweep: every link of every Workload Identity KSA judged from the whole inventory; drift
      opens incidents, healthy links resolve them (--dry-run prints one Finding per line, changes nothing).
  ${SINK_FILTER_USAGE}
      The Logging filter of a Log Router sink (default audit), as infra/filters/ holds it.
  ${PERMISSIONS_USAGE}
      The permissions of one of wi-sentinel's custom roles (reader, self_check, topic_policy), as
      infra/generated/roles.json holds them, comma-separated for gcloud iam roles create --permissions.
  ${SNAPSHOT_USAGE}
      Live state (GKE, IAM, every cluster's Kubernetes API) as a Snapshot on stdout; progress and
      problems on stderr (exit 1 when problems left it partial).
  ${STATUS_USAGE}
      What /wi-status answers, here: open incidents and each cluster, one cluster, one KSA's chain
      (exit 0 healthy, 1 broken, 2 bad usage, 3 something could not be read).
`;

type Command = (args: string[], io: Io) => Promise<number>;

const COMMANDS: Record<string, Command> = {
  detect: detectCommand,
  replay: (args, io) => replayCommand(args, io),
  demo: (args, io) => demoCommand(args, io),
  diagnose: (args, io) => diagnoseCommand(args, io),
  doctor: (args, io) => doctorCommand(args, io),
  reconcile: (args, io) => reconcileCommand(args, io),
  'sink-filter': sinkFilterCommand,
  permissions: permissionsCommand,
  snapshot: (args, io) => snapshotCommand(args, io),
  status: (args, io) => statusCommand(args, io),
};

/** Runs one command; returns the exit code (0 ok, 1 failure, 2 bad input or usage). */
export async function main(argv: string[], io: Io = processIo): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    io.stdout(USAGE);
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (command === undefined) {
    io.stderr(`wi-sentinel: unknown command ${JSON.stringify(name)}\n${USAGE}`);
    return 2;
  }
  try {
    return await command(args, io);
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.stderr(`wi-sentinel ${name}: ${(error as Error).message}\n${USAGE}`);
      return 2;
    }
    if (error instanceof ConfigError) {
      io.stderr(`wi-sentinel ${name}: ${error.message}\n`);
      return 2;
    }
    io.stderr(`wi-sentinel ${name}: ${(error as Error).message}\n`);
    return 1;
  }
}
