import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { REPO_ROOT } from './paths.ts';

const FRAMEWORK = join(REPO_ROOT, 'node_modules/@google-cloud/functions-framework/build/src/main.js');

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

export interface FunctionServer {
  url: string;
  /** The function's node process (functions-framework serves in it, no wrapper): for /proc/PID/status. */
  pid: number;
  /** Every stdout line the function printed so far. */
  lines: string[];
  /** Structured (JSON) log lines so far. */
  logs(): Record<string, unknown>[];
  waitForLogs(count: number, timeoutMs?: number): Promise<Record<string, unknown>[]>;
  stop(): Promise<void>;
}

/**
 * Serves one target with the real functions-framework in a child process (own process group, so
 * stop() ends everything it started), from the TypeScript source or the built `dist/`.
 */
export async function startFunction(
  target: string,
  {
    env = {},
    signatureType = 'cloudevent',
    source = 'functions/index.ts',
  }: {
    env?: Record<string, string>;
    signatureType?: 'cloudevent' | 'http';
    source?: string;
  } = {},
): Promise<FunctionServer> {
  const port = await freePort();
  const child: ChildProcess = spawn(
    process.execPath,
    [
      FRAMEWORK,
      `--target=${target}`,
      `--signature-type=${signatureType}`,
      `--port=${port}`,
      `--source=${source}`,
    ],
    { cwd: REPO_ROOT, env: { ...cleanEnv(), ...env }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const lines: string[] = [];
  const errors: string[] = [];
  let buffer = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    buffer += chunk;
    const parts = buffer.split('\n');
    buffer = parts.pop() ?? '';
    lines.push(...parts);
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => errors.push(chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}/`;
  await waitUntil(async () => {
    if (child.exitCode !== null)
      throw new Error(`function server exited: ${errors.join('')}${lines.join('\n')}`);
    return fetch(url, { method: 'GET' }).then(
      () => true,
      () => false,
    );
  }, 15_000);
  const logs = () =>
    lines.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>);
  return {
    url,
    pid: child.pid ?? 0,
    lines,
    logs,
    async waitForLogs(count, timeoutMs = 5_000) {
      await waitUntil(async () => logs().length >= count, timeoutMs);
      return logs();
    },
    async stop() {
      if (child.exitCode === null && child.pid !== undefined) {
        process.kill(-child.pid, 'SIGTERM');
        await exited;
      }
    },
  };
}

/** The child gets the machine's environment minus anything wi-sentinel reads. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const key of Object.keys(env)) {
    if (/^(SLACK_|PAGERDUTY_|WI_)/.test(key)) delete env[key];
  }
  return env;
}

export async function waitUntil(check: () => Promise<boolean> | boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
