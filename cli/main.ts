import { ConfigError } from '../shared/errors.ts';
import { type Io, processIo } from './io.ts';
import { type CommandName, USAGE, UsageError } from './usage.ts';

type Command = (args: string[], io: Io) => Promise<number>;

/**
 * Each command's module, imported when it runs: a process loads the modules of its own command only
 * (`detect` needs no Google client, no store, no Slack).
 */
const COMMANDS: Record<CommandName, () => Promise<Command>> = {
  detect: async () => (await import('./detect.ts')).detectCommand,
  replay: async () => (await import('./replay.ts')).replayCommand,
  demo: async () => (await import('./demo.ts')).demoCommand,
  diagnose: async () => (await import('./diagnose.ts')).diagnoseCommand,
  reconcile: async () => (await import('./reconcile.ts')).reconcileCommand,
  'sink-filter': async () => (await import('./sink-filter.ts')).sinkFilterCommand,
  snapshot: async () => (await import('./snapshot.ts')).snapshotCommand,
  status: async () => (await import('./status.ts')).statusCommand,
};

/** Runs one command; returns the exit code (0 ok, 1 failure, 2 bad input or usage). */
export async function main(argv: string[], out: Io = processIo): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    out.stdout(USAGE);
    return name === undefined ? 2 : 0;
  }
  const load = Object.hasOwn(COMMANDS, name) ? COMMANDS[name as CommandName] : undefined;
  if (load === undefined) {
    out.stderr(`wi-sentinel: unknown command ${JSON.stringify(name)}\n${USAGE}`);
    return 2;
  }
  try {
    return await (await load())(args, out);
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      out.stderr(`wi-sentinel ${name}: ${(error as Error).message}\n${USAGE}`);
      return 2;
    }
    if (error instanceof ConfigError) {
      out.stderr(`wi-sentinel ${name}: ${(error as Error).message}\n`);
      return 2;
    }
    out.stderr(`wi-sentinel ${name}: ${(error as Error).message}\n`);
    return 1;
  }
}
