import { ConfigError } from '../shared/errors.ts';
import { type Io, processIo, UsageError } from './io.ts';

type Command = (args: string[], io: Io) => Promise<number>;

interface Entry {
  usage: string;
  /** What it does, indented under the usage in `wi-sentinel help`. */
  about: string;
  /** Loaded when the command runs: a command loads only its own modules (demo's server, the GKE client…). */
  load: () => Promise<Command>;
}

const COMMANDS: Record<string, Entry> = {
  detect: {
    usage: 'wi-sentinel detect [--snapshot FILE] [FILE|-]',
    about: 'Read audit-log deliveries (NDJSON), print one Finding per line.',
    load: async () => (await import('./detect.ts')).detectCommand,
  },
  symptoms: {
    usage: 'wi-sentinel symptoms [--snapshot FILE] [-v] [FILE|-]',
    about: `Read container-log deliveries (NDJSON), print one JSON line per credential failure (the KSA
      from the snapshot, the sample redacted); -v says why each other line is noise. At the end, the
      groups auditEvents would form and which would have paged.`,
    load: async () => (await import('./symptoms.ts')).symptomsCommand,
  },
  replay: {
    usage: 'wi-sentinel replay --snapshot FILE [FILE|-]',
    about: `The whole pipeline in one process: audit entries, container logs and Monitoring
      notifications through incidents, symptoms and evidence to Slack and PagerDuty (printed when
      not configured).`,
    load: async () => (await import('./replay.ts')).replayCommand,
  },
  demo: {
    usage: 'wi-sentinel demo [--fast] [--verbose]',
    about: 'A simulated organization and its incidents, end to end, shown here (no Google account needed).',
    load: async () => (await import('./demo.ts')).demoCommand,
  },
  diagnose: {
    usage: 'wi-sentinel diagnose NS/KSA --cluster C --location L --project P [--json] [--snapshot FILE]',
    about: `Every link of one KSA's Workload Identity chain, with the repair of each broken one
      (exit 0 healthy, 1 broken, 2 bad usage, 3 some link could not be checked).`,
    load: async () => (await import('./diagnose.ts')).diagnoseCommand,
  },
  reconcile: {
    usage: 'wi-sentinel reconcile [--project P … | --snapshot FILE] [--dry-run] [--verbose]',
    about: `The sweep: every link of every Workload Identity KSA judged from the whole inventory; drift
      opens incidents, healthy links resolve them (--dry-run prints one Finding per line, changes nothing).`,
    load: async () => (await import('./reconcile.ts')).reconcileCommand,
  },
  'sink-filter': {
    usage: 'wi-sentinel sink-filter [--sink NAME]',
    about: 'The Logging filter of a Log Router sink (default audit), as infra/filters/ holds it.',
    load: async () => (await import('./sink-filter.ts')).sinkFilterCommand,
  },
  snapshot: {
    usage: 'wi-sentinel snapshot [--project P …] [--json] [--concurrency N]',
    about: `Live state (GKE, IAM, every cluster's Kubernetes API) as a Snapshot on stdout; progress and
      problems on stderr (exit 1 when problems left it partial).`,
    load: async () => (await import('./snapshot.ts')).snapshotCommand,
  },
  status: {
    usage:
      'wi-sentinel status [--snapshot FILE | --project P …] [--json] [CLUSTER | NS/KSA [--cluster C] | incidents | help]',
    about: `What /wi-status answers, here: open incidents and each cluster, one cluster, one KSA's chain
      (exit 0 healthy, 1 broken, 2 bad usage, 3 something could not be read).`,
    load: async () => (await import('./status.ts')).statusCommand,
  },
};

const USAGE = `Usage: wi-sentinel COMMAND

Commands:
${Object.values(COMMANDS)
  .map(({ usage, about }) => `  ${usage}\n      ${about}\n`)
  .join('')}`;

/** Runs one command; returns the exit code (0 ok, 1 failure, 2 bad input or usage). */
export async function main(argv: string[], io: Io = processIo): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    io.stdout(USAGE);
    return name === undefined ? 2 : 0;
  }
  const entry = COMMANDS[name];
  if (entry === undefined) {
    io.stderr(`wi-sentinel: unknown command ${JSON.stringify(name)}\n${USAGE}`);
    return 2;
  }
  try {
    const command = await entry.load();
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
