import { type ChildProcess, spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './function-server.ts';

/**
 * Google's emulators, started through `gcloud` for one test file. The gcloud wrapper (Python) starts
 * a shell script that starts a JVM, so each emulator runs in its own process group and stop() ends
 * the whole group. A missing gcloud or emulator component fails the caller with what is missing:
 * tests that need an emulator never skip silently.
 */

export interface Emulator {
  /** `127.0.0.1:PORT`, as FIRESTORE_EMULATOR_HOST / PUBSUB_EMULATOR_HOST expect it. */
  host: string;
  port: number;
  projectId: string;
  /** The process group (the gcloud wrapper's pid). */
  pid: number;
  /** Everything the emulator printed so far (stdout and stderr interleaved). */
  output(): string;
  /** Ends the process group and waits until no process of it is left. Safe to call twice. */
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 30_000;
const DEFAULT_PROJECT = 'demo-wi-sentinel';

export interface EmulatorOptions {
  /** Default `demo-wi-sentinel` ("demo-" projects never reach Google). */
  projectId?: string;
  /** Default: a free port. Give the old one to start an emulator again where clients expect it. */
  port?: number;
  /** How long to wait for it to answer, ms. */
  timeoutMs?: number;
  /** The gcloud executable (default `gcloud` on PATH). */
  gcloud?: string;
}

/** `gcloud emulators firestore start` on 127.0.0.1 (native mode). */
export async function startFirestoreEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const port = options.port ?? (await freePort());
  return startEmulator(options, {
    name: 'Firestore emulator',
    component: 'google-cloud-cli-firestore-emulator',
    args: ['emulators', 'firestore', 'start', `--host-port=127.0.0.1:${port}`],
    port,
  });
}

/** `gcloud beta emulators pubsub start` on 127.0.0.1. */
export async function startPubSubEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const port = options.port ?? (await freePort());
  const projectId = options.projectId ?? DEFAULT_PROJECT;
  return startEmulator(options, {
    name: 'Pub/Sub emulator',
    component: 'google-cloud-cli-pubsub-emulator',
    args: ['beta', 'emulators', 'pubsub', 'start', `--host-port=127.0.0.1:${port}`, `--project=${projectId}`],
    port,
  });
}

async function startEmulator(
  { projectId = DEFAULT_PROJECT, timeoutMs = START_TIMEOUT_MS, gcloud = 'gcloud' }: EmulatorOptions,
  { name, component, args, port }: { name: string; component: string; args: string[]; port: number },
): Promise<Emulator> {
  const group = spawnGroup(gcloud, args, {
    // Never prompt (e.g. to install a missing component): fail with gcloud's message instead.
    CLOUDSDK_CORE_DISABLE_PROMPTS: '1',
  });
  const url = `http://127.0.0.1:${port}/`;
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      const failure = await group.failure();
      if (failure !== undefined) {
        throw new Error(
          failure.code === 'ENOENT'
            ? `${name}: ${gcloud} not found (install google-cloud-cli and ${component})`
            : `${name}: ${gcloud} failed to start: ${failure.message}`,
        );
      }
      if (group.exitStatus() !== undefined) {
        throw new Error(
          `${name} exited (${group.exitStatus()}) before answering on ${url}; is ${component} installed? ` +
            `Its output:\n${group.output()}`,
        );
      }
      if (await answers(url)) break;
      if (Date.now() > deadline) {
        throw new Error(
          `${name} did not answer on ${url} within ${timeoutMs} ms. Its output:\n${group.output()}`,
        );
      }
      await sleep(100);
    }
  } catch (error) {
    await group.stop();
    throw error;
  }
  return {
    host: `127.0.0.1:${port}`,
    port,
    projectId,
    pid: group.pid ?? 0,
    output: group.output,
    stop: group.stop,
  };
}

async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(1_000) });
    await response.arrayBuffer();
    return response.ok;
  } catch {
    return false;
  }
}

export interface ProcessGroup {
  pid: number | undefined;
  output(): string;
  /** The spawn error (e.g. ENOENT), once the spawn attempt has settled. */
  failure(): Promise<NodeJS.ErrnoException | undefined>;
  /** The leader's exit code or signal, once it has exited. */
  exitStatus(): string | undefined;
  stop(): Promise<void>;
}

/**
 * Runs `command` as the leader of a new process group. stop() sends SIGTERM to the group, waits
 * until no member is left and escalates to SIGKILL after `graceMs`; the group is also killed when
 * this process exits without having stopped it (a failing test, an uncaught error).
 */
export function spawnGroup(
  command: string,
  args: string[],
  env: Record<string, string> = {},
  { graceMs = 5_000 }: { graceMs?: number } = {},
): ProcessGroup {
  const child: ChildProcess = spawn(command, args, {
    env: { ...process.env, ...env },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const chunks: string[] = [];
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => chunks.push(chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => chunks.push(chunk));
  let spawnError: NodeJS.ErrnoException | undefined;
  const spawned = new Promise<void>((resolve) => {
    child.once('spawn', () => resolve());
    child.once('error', (error: NodeJS.ErrnoException) => {
      spawnError = error;
      resolve();
    });
  });
  let status: string | undefined;
  child.once('exit', (code, signal) => {
    status = signal ?? `code ${code}`;
  });
  const pgid = child.pid;
  const killOnExit = () => {
    if (pgid !== undefined) signalGroup(pgid, 'SIGKILL');
  };
  process.once('exit', killOnExit);
  let stopping: Promise<void> | undefined;

  return {
    pid: pgid,
    output: () => chunks.join(''),
    failure: async () => {
      await spawned;
      return spawnError;
    },
    exitStatus: () => status,
    stop: () => {
      stopping ??= (async () => {
        process.removeListener('exit', killOnExit);
        if (pgid === undefined) return;
        signalGroup(pgid, 'SIGTERM');
        if (!(await groupGone(pgid, graceMs))) {
          signalGroup(pgid, 'SIGKILL');
          if (!(await groupGone(pgid, graceMs))) {
            throw new Error(`process group ${pgid} (${command} ${args.join(' ')}) survived SIGKILL`);
          }
        }
      })();
      return stopping;
    },
  };
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

async function groupGone(pgid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      process.kill(-pgid, 0);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ESRCH') return true;
      throw error;
    }
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
}
