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
  replay: async () => {
    const { replayCommand } = await import('./replay.ts');
    return (args, io) => replayCommand(args, io);
  },
  demo: async () => {
    const { demoCommand } = await import('./demo.ts');
    return (args, io) => demoCommand(args, io);
  },
  diagnose: async () => {
    const { diagnoseCommand } = await import('./diagnose.ts');
    return (args, io) => diagnoseCommand(args, io);
  },
  reconcile: async () => {
    const { reconcileCommand } = await import('./reconcile.ts');
    return (args, io) => reconcileCommand(args, io);
  },
  'sink-filter': async () => (await import('./sink-filter.ts')).sinkFilterCommand,
  snapshot: async () => {
    const { snapshotCommand } = await import('./snapshot.ts');
    return (args, io) => snapshotCommand(args, io);
  },
  status: async () => {
    const { statusCommand } = await import('./status.ts');
    return (args, io) => statusCommand(args, io);
  },
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
