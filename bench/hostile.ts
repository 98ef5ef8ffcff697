// Hostile bodies: what an outsider costs the functions. `wiStatus` (deployed with 256 MiB, 16
// concurrent requests, invokable by allUsers) and `auditEvents` (512 MiB, 8 concurrent) are served
// from the built dist/ by functions-framework (child processes, as deployed, V8's heap sized to the
// function's memory); for each attack, 16 attackers (8 for auditEvents: an instance takes no more at
// once) send as fast as they are answered for `--seconds` (default 8) while a legitimate client
// keeps asking: a signed `/wi-status incidents` every 200 ms, or an audit entry pushed as Pub/Sub
// pushes it.
//
//   npm run bench -- hostile [--seconds N] [--only wiStatus|auditEvents]
//
// Attacks: a gzip bomb (about 600 KB that inflates to 600 MB, Content-Encoding: gzip); a 32 MiB body
// with its Content-Length (Cloud Run's own limit for HTTP/1 requests is 32 MiB); a 32 MiB body sent
// chunked, without a length; and for auditEvents the largest body it accepts (a push body of a
// maximal Pub/Sub message that is not a LogEntry), which it must read and parse.
// Measured per attack: the function's peak RSS (VmHWM, reset before each attack), how the attackers
// were answered, and the legitimate requests' latency (p50, max) and failures. A function whose RSS
// passes CEILING_MB is stopped and the attack reported as exceeding it (the old behaviour went past
// 1 GB). Pass: wiStatus stays under 200 MB in every attack and every legitimate command is answered
// within Slack's 3 s.
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { EVENT_BODY_MAX_BYTES } from '../functions/body-gate.ts';
import { type FunctionServer, startFunction } from '../test/support/function-server.ts';
import { memoryMB, resetPeak } from '../test/support/memory.ts';
import { FIXTURES } from '../test/support/paths.ts';
import { gzipBomb, type RawBody, sendRaw, zerosArray } from '../test/support/raw-request.ts';
import { headerOf, postSigned, slashCommandBody } from '../test/support/slash-command.ts';
import { build, option, percentile, round, say } from './_support.ts';

const SECRET = 'bench-hostile-signing-secret-7e6d';
/** Attackers at once: 16, but never more than an instance of the function takes (Cloud Run sends the rest elsewhere). */
const ATTACKERS = 16;
const SLACK_DEADLINE_MS = 3_000;
const WI_STATUS_LIMIT_MB = 200;
/** Past this the function is stopped: the machine is shared. */
const CEILING_MB = 2_500;
const MiB = 1024 * 1024;

interface Attack {
  name: string;
  /** Sends one hostile request; resolves with how it was answered (a status, or the error code). */
  send(url: string): Promise<string>;
}

interface Target {
  name: 'wiStatus' | 'auditEvents';
  signatureType: 'http' | 'cloudevent';
  /** The memory the function is deployed with (infra/locals.tf), MB. */
  deployedMB: number;
  /** How many requests an instance takes at once (infra/locals.tf `concurrency`). */
  concurrency: number;
  /** One legitimate request; resolves with its error, or nothing when it was answered as it should be. */
  legit(url: string): Promise<string | undefined>;
  attacks: Attack[];
}

/** One hostile request: how it was answered (a status, or the error code when it was not). */
async function send(url: string, body: RawBody, headers: Record<string, string>): Promise<string> {
  return String((await sendRaw(url, body, headers)).status);
}

/** The attacks on both targets; the gzip bomb is sent as the content type the target takes. */
function attacks(bomb: Buffer, bombType: string): Attack[] {
  const big = zerosArray(32 * MiB - 1);
  const chunk = zerosArray(MiB - 1);
  return [
    {
      name: 'gzip bomb (600 MB inflated)',
      send: (url) => send(url, bomb, { 'content-type': bombType, 'content-encoding': 'gzip' }),
    },
    { name: '32 MiB JSON body', send: (url) => send(url, big, { 'content-type': 'application/json' }) },
    {
      name: '32 MiB chunked',
      send: (url) => send(url, { chunk, count: 32 }, { 'content-type': 'application/json' }),
    },
  ];
}

/** A push body as Pub/Sub sends it, its data the entry's JSON in base64. */
function pushBody(entry: unknown, id: string): string {
  return JSON.stringify({
    message: {
      data: Buffer.from(JSON.stringify(entry)).toString('base64'),
      messageId: id,
      publishTime: new Date().toISOString(),
    },
    subscription: 'projects/bench-prod/subscriptions/wi-sentinel-audit-push',
  });
}

const IRRELEVANT = {
  insertId: 'bench-hostile-1',
  logName: 'projects/bench-prod/logs/cloudaudit.googleapis.com%2Factivity',
  protoPayload: {
    '@type': 'type.googleapis.com/google.cloud.audit.AuditLog',
    serviceName: 'storage.googleapis.com',
    methodName: 'storage.buckets.create',
    resourceName: 'projects/_/buckets/bench',
  },
  resource: { type: 'gcs_bucket', labels: { project_id: 'bench-prod' } },
  timestamp: '2026-11-20T09:00:00Z',
};

async function targets(only: string | undefined): Promise<Target[]> {
  const bomb = await gzipBomb(600);
  say(`gzip bomb: ${round(bomb.length / 1024)} KB inflating to 600 MB`);
  let legitCount = 0;
  const wiStatus: Target = {
    name: 'wiStatus',
    signatureType: 'http',
    deployedMB: 256,
    concurrency: 16,
    async legit(url) {
      const answer = await postSigned(url, SECRET, slashCommandBody('incidents'));
      if (answer.status !== 200) return `HTTP ${answer.status}`;
      if (headerOf(answer) !== '✅ No open incident') return `answered ${JSON.stringify(headerOf(answer))}`;
      return undefined;
    },
    attacks: attacks(bomb, 'application/x-www-form-urlencoded'),
  };
  // The largest body auditEvents reads: a push body of the largest Pub/Sub message, not a LogEntry.
  const largest = Buffer.from(
    JSON.stringify({
      message: { data: 'A'.repeat(EVENT_BODY_MAX_BYTES - 200), messageId: 'x' },
      subscription: 's',
    }),
  );
  const auditEvents: Target = {
    name: 'auditEvents',
    signatureType: 'cloudevent',
    deployedMB: 512,
    concurrency: 8,
    async legit(url) {
      legitCount += 1;
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: pushBody({ ...IRRELEVANT, insertId: `bench-hostile-${legitCount}` }, `m-${legitCount}`),
      });
      await response.arrayBuffer();
      return response.status >= 200 && response.status < 300 ? undefined : `HTTP ${response.status}`;
    },
    attacks: [
      ...attacks(bomb, 'application/json'),
      {
        name: `largest accepted body (${round(largest.length / MiB, 1)} MiB)`,
        send: (url) => send(url, largest, { 'content-type': 'application/json' }),
      },
    ],
  };
  return [wiStatus, auditEvents].filter((t) => only === undefined || t.name === only);
}

interface AttackResult {
  target: string;
  attack: string;
  peakRssMB: number;
  exceeded: boolean;
  answers: Record<string, number>;
  legit: { count: number; p50Ms: number; maxMs: number; errors: string[] };
}

async function runAttack(server: FunctionServer, target: Target, attack: Attack, seconds: number) {
  // Without a reset, the peak is since start: still an upper bound.
  resetPeak(server.pid);
  const until = Date.now() + seconds * 1000;
  const answers: Record<string, number> = {};
  let exceeded = false;
  let highest = 0;
  const watch = setInterval(() => {
    try {
      const rss = memoryMB(server.pid, 'VmRSS');
      if (Number.isFinite(rss)) highest = Math.max(highest, rss);
      if (rss > CEILING_MB) {
        exceeded = true;
        void server.stop();
      }
    } catch {
      // Gone already.
    }
  }, 100);
  const attacker = async () => {
    while (Date.now() < until && !exceeded) {
      const answer = await attack.send(server.url);
      answers[answer] = (answers[answer] ?? 0) + 1;
    }
  };
  const latencies: number[] = [];
  const errors: string[] = [];
  const legitimate = async () => {
    while (Date.now() < until && !exceeded) {
      const started = performance.now();
      const error = await target.legit(server.url).catch((e: Error) => e.message);
      const ms = performance.now() - started;
      latencies.push(ms);
      if (error) errors.push(error);
      else if (target.name === 'wiStatus' && ms > SLACK_DEADLINE_MS)
        errors.push(`answered in ${round(ms)} ms`);
      await sleep(200);
    }
  };
  const attackers = Math.min(ATTACKERS, target.concurrency);
  await Promise.all([legitimate(), ...Array.from({ length: attackers }, attacker)]);
  clearInterval(watch);
  // Once stopped, the highest RSS seen is all there is.
  const peak = Math.max(highest, memoryMB(server.pid, 'VmHWM') || 0);
  const sorted = latencies.sort((a, b) => a - b);
  return {
    target: target.name,
    attack: attack.name,
    peakRssMB: round(peak),
    exceeded,
    answers,
    legit: {
      count: latencies.length,
      p50Ms: round(percentile(sorted, 50)),
      maxMs: round(sorted.at(-1) ?? Number.NaN),
      errors,
    },
  } satisfies AttackResult;
}

export async function run(args: string[]): Promise<void> {
  const seconds = Number(option(args, 'seconds') ?? 8);
  if (!(seconds > 0)) throw new Error('--seconds must be a positive number');
  const only = option(args, 'only');
  build();
  const env = {
    SLACK_SIGNING_SECRET: SECRET,
    WI_SNAPSHOT: join(FIXTURES, 'snapshot.json'),
    WI_STATE: 'memory',
    GOOGLE_CLOUD_PROJECT: 'demo-hostile',
    NODE_ENV: 'production',
  };
  const results: AttackResult[] = [];
  const chosen = await targets(only);
  const targetsByName = new Map(chosen.map((t) => [t.name as string, t]));
  for (const target of chosen) {
    for (const attack of target.attacks) {
      // A fresh instance per attack: one attack's garbage is not the next one's baseline.
      const server = await startFunction(target.name, {
        signatureType: target.signatureType,
        // V8 sizes its heap from the memory it sees (4 GB of old space on a 24 GB machine, collected
        // lazily); deployed, it sees the function's memory: half of it for the old space, as there.
        env: { ...env, NODE_OPTIONS: `--max-old-space-size=${target.deployedMB / 2}` },
        source: 'dist/functions/index.js',
      });
      try {
        await target.legit(server.url);
        const result = await runAttack(server, target, attack, seconds);
        results.push(result);
        const answers = Object.entries(result.answers)
          .map(([answer, count]) => `${answer}×${count}`)
          .join(' ');
        say(
          `${target.name} / ${attack.name}: peak RSS ${result.peakRssMB} MB${result.exceeded ? ` (passed ${CEILING_MB} MB: stopped)` : ''}; ` +
            `attackers answered ${answers}; legitimate: ${result.legit.count} answered, p50 ${result.legit.p50Ms} ms, ` +
            `max ${result.legit.maxMs} ms, ${result.legit.errors.length} failed${result.legit.errors[0] ? ` (${result.legit.errors[0]})` : ''}`,
        );
      } finally {
        await server.stop();
      }
    }
  }
  const ofTarget = (name: string) => results.filter((r) => r.target === name);
  const summary = (name: string) => {
    const rs = ofTarget(name);
    if (rs.length === 0) return undefined;
    return {
      deployedMB: targetsByName.get(name)?.deployedMB,
      attackers: Math.min(ATTACKERS, targetsByName.get(name)?.concurrency ?? ATTACKERS),
      peakRssMB: Math.max(...rs.map((r) => r.peakRssMB)),
      legitMaxMs: Math.max(...rs.map((r) => r.legit.maxMs)),
      legitErrors: rs.reduce((sum, r) => sum + r.legit.errors.length, 0),
      exceeded: rs.some((r) => r.exceeded),
    };
  };
  const status = summary('wiStatus');
  const audit = summary('auditEvents');
  const failed =
    status !== undefined &&
    (status.peakRssMB >= WI_STATUS_LIMIT_MB ||
      status.legitErrors > 0 ||
      status.legitMaxMs > SLACK_DEADLINE_MS);
  if (failed) process.exitCode = 1;
  say(
    JSON.stringify({
      bench: 'hostile',
      seconds,
      ...(status ? { wiStatus: status } : {}),
      ...(audit ? { auditEvents: audit } : {}),
      pass: !failed,
    }),
  );
}
