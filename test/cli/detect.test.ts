import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { findingsOf, runCli } from '../support/cli.ts';
import { FIXTURES, REPO_ROOT } from '../support/paths.ts';

const snapshot = join(FIXTURES, 'snapshot.json');

function entry(overrides: Record<string, unknown> = {}) {
  return {
    insertId: 'cli-1',
    logName: 'projects/orbit-prod/logs/cloudaudit.googleapis.com%2Factivity',
    protoPayload: {
      '@type': 'type.googleapis.com/google.cloud.audit.AuditLog',
      authenticationInfo: { principalEmail: 'erin@example.org' },
      serviceName: 'iam.googleapis.com',
      methodName: 'google.iam.admin.v1.DisableServiceAccount',
      resourceName: 'projects/-/serviceAccounts/104200000000000000011',
      request: { name: 'projects/orbit-prod/serviceAccounts/104200000000000000011' },
      response: { '@type': 'type.googleapis.com/google.protobuf.Empty' },
      status: {},
    },
    resource: {
      type: 'service_account',
      labels: {
        email_id: 'cart@orbit-prod.iam.gserviceaccount.com',
        project_id: 'orbit-prod',
        unique_id: '104200000000000000011',
      },
    },
    timestamp: '2026-11-20T08:00:00Z',
    ...overrides,
  };
}

function pushBody(value: unknown) {
  const data = Buffer.from(`${JSON.stringify(value)}\n`).toString('base64');
  return {
    message: { data, messageId: '42', message_id: '42' },
    subscription: 'projects/orbit-prod/subscriptions/s',
  };
}

describe('wi-sentinel detect', () => {
  test('prints one Finding per line, impact from the snapshot', async () => {
    const result = await runCli(['detect', '--snapshot', snapshot, '-'], `${JSON.stringify(entry())}\n`);
    assert.equal(result.code, 0, result.stderr);
    const [finding, ...rest] = findingsOf(result.stdout);
    assert.equal(rest.length, 0);
    assert.ok(finding);
    assert.equal(finding.kind, 'gsa-disabled');
    assert.equal(finding.fingerprint, 'gsa-disabled/orbit-prod/cart@orbit-prod.iam.gserviceaccount.com');
    assert.deepEqual(
      (finding.ksas as { namespace: string; name: string }[]).map((k) => `${k.namespace}/${k.name}`).sort(),
      ['checkout/cart', 'checkout/pricing'],
    );
    assert.deepEqual((finding.cause as Record<string, string>).actor, 'erin@example.org');
  });

  test('a bad line is named on stderr, the rest is still processed, exit 2', async () => {
    const lines = [
      JSON.stringify(entry()),
      '{"protoPayload": ',
      JSON.stringify({ message: { data: '!!not base64!!' } }),
      '',
      JSON.stringify(pushBody(entry({ insertId: 'cli-2' }))),
    ];
    const result = await runCli(['detect'], `${lines.join('\n')}\n`);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /^line 2: not JSON/m);
    assert.match(result.stderr, /^line 3: Pub\/Sub message data is not base64/m);
    assert.doesNotMatch(result.stderr, /line [145]:/);
    const findings = findingsOf(result.stdout);
    assert.deepEqual(
      findings.map((f) => (f.cause as Record<string, string>).insertId),
      ['cli-1', 'cli-2'],
    );
  });

  test('reads a file argument; --verbose says why entries are ignored', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wi-detect-'));
    const file = join(dir, 'in.ndjson');
    const ignored = entry({
      protoPayload: { methodName: 'storage.buckets.create', serviceName: 'storage.googleapis.com' },
    });
    writeFileSync(file, `${JSON.stringify(ignored)}\n`);
    const result = await runCli(['detect', '--verbose', file]);
    assert.equal(result.code, 0);
    assert.equal(result.stdout, '');
    assert.match(
      result.stderr,
      /line 1: ignored: storage\.buckets\.create does not change a Workload Identity link/,
    );
  });

  test('an invalid snapshot is refused with the path of the bad field', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wi-detect-'));
    const bad = JSON.parse(readFileSync(snapshot, 'utf8'));
    bad.projects[0].clusters[1].name = 42;
    const file = join(dir, 'snapshot.json');
    writeFileSync(file, JSON.stringify(bad));
    const result = await runCli(['detect', '--snapshot', file], '');
    assert.equal(result.code, 2);
    assert.match(result.stderr, /projects\.0\.clusters\.1\.name/);
  });

  test('a missing snapshot file is named', async () => {
    const result = await runCli(['detect', '--snapshot', '/nonexistent/snap.json'], '');
    assert.equal(result.code, 2);
    assert.match(result.stderr, /cannot read snapshot \/nonexistent\/snap\.json: ENOENT/);
  });

  test('usage errors exit 2', async () => {
    const unknown = await runCli(['detonate']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command "detonate"/);
    const flag = await runCli(['detect', '--frobnicate']);
    assert.equal(flag.code, 2);
    assert.match(flag.stderr, /--frobnicate/);
    const help = await runCli(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /detect \[--snapshot FILE\]/);
  });

  test('a pretty-printed entry, or an array of them, is read as one document', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wi-detect-'));
    const single = join(dir, 'entry.json');
    writeFileSync(single, JSON.stringify(entry(), null, 2));
    const one = await runCli(['detect', single]);
    assert.equal(one.code, 0, one.stderr);
    assert.equal(findingsOf(one.stdout).length, 1);
    const array = join(dir, 'entries.json');
    writeFileSync(
      array,
      JSON.stringify([entry(), { hello: 'world' }, entry({ insertId: 'cli-3' })], null, 2),
    );
    const many = await runCli(['detect', array]);
    assert.equal(many.code, 2);
    assert.match(many.stderr, /^item 2: not a LogEntry/m);
    assert.equal(findingsOf(many.stdout).length, 2);
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, JSON.stringify(entry(), null, 2).slice(0, -2));
    const bad = await runCli(['detect', broken]);
    assert.equal(bad.code, 2);
    assert.equal(bad.stderr.trim().split('\n').length, 1, 'one error for one broken document');
    assert.match(bad.stderr, /^document: not JSON/);
  });

  test('detect loads its own modules only: no other command, store, sender or client library', () => {
    const script = `
      import { registerHooks } from 'node:module';
      const seen = [];
      registerHooks({ resolve(specifier, context, next) { const r = next(specifier, context); seen.push(r.url); return r; } });
      const { main } = await import(${JSON.stringify(join(REPO_ROOT, 'cli/main.ts'))});
      const io = { stdout() {}, stderr() {}, stdin: process.stdin };
      const code = await main(['detect', '--snapshot', ${JSON.stringify(snapshot)}, '/dev/null'], io);
      console.log(JSON.stringify({ code, seen }));
    `;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
    });
    assert.equal(run.status, 0, run.stderr);
    const { code, seen } = JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '{}') as {
      code: number;
      seen: string[];
    };
    assert.equal(code, 0);
    assert.ok(
      seen.some((url) => url.endsWith('/cli/detect.ts')),
      'the hook saw the imports',
    );
    // --snapshot reads its file (shared/live/snapshot-file.ts: node:fs and the Snapshot model only).
    const foreign = seen.filter(
      (url) =>
        /\/cli\/(?!main|detect|io)[a-z-]+\.ts$/.test(url) ||
        /\/shared\/wiring\.ts$|\/shared\/(alerting|incidents|notify|gcp|reconcile|status|slack)\//.test(
          url,
        ) ||
        (/\/shared\/live\//.test(url) && !url.endsWith('/shared/live/snapshot-file.ts')) ||
        /\/node_modules\/(?!zod\/)/.test(url),
    );
    assert.deepEqual(foreign, []);
  });
});
