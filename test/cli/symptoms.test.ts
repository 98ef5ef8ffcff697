import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { asDelivery, readSample, sampleFiles } from '../shared/symptoms/fixtures.ts';
import { findingsOf, runCli } from '../support/cli.ts';
import { HEAVY_MODULE, traceImports } from '../support/imports.ts';
import { FIXTURES, REPO_ROOT } from '../support/paths.ts';

const snapshot = join(FIXTURES, 'snapshot.json');

function ndjson(values: unknown[]): string {
  return values.map((value) => `${JSON.stringify(value)}\n`).join('');
}

function tempFile(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'wi-symptoms-')), 'logs.ndjson');
  writeFileSync(file, text);
  return file;
}

/** The same failing entry every `everySeconds`, `count` times, from `start`. */
function series(file: string, count: number, everySeconds: number, start = '2026-11-28T10:00:00Z') {
  return Array.from({ length: count }, (_, i) => {
    const entry = readSample(file);
    const time = new Date(Date.parse(start) + i * everySeconds * 1000).toISOString();
    return { ...entry, insertId: `${entry.insertId}-${i}`, timestamp: time, receiveTimestamp: time };
  });
}

describe('wi-sentinel symptoms', () => {
  test('prints one line per credential failure, none for the noise; the KSA from the snapshot', async () => {
    const matches = sampleFiles('match');
    const input = ndjson([...sampleFiles('noise'), ...matches].map(readSample));
    const result = await runCli(['symptoms', '--snapshot', snapshot, tempFile(input)]);
    assert.equal(result.code, 0, result.stderr);
    const lines = findingsOf(result.stdout);
    assert.equal(lines.length, matches.length);
    const noise = sampleFiles('noise').length;
    for (const [i, line] of lines.entries()) {
      assert.deepEqual(
        Object.keys(line).sort(),
        [
          'cluster',
          'insertId',
          'kind',
          'library',
          'line',
          'namespace',
          'pod',
          'sample',
          'signature',
          ...(line.ksa === undefined ? [] : ['ksa']),
        ].sort(),
      );
      assert.equal(line.line, noise + i + 1, 'the line number in the input');
      const file = matches[i] as string;
      assert.equal(line.library, file.split('/')[1], file);
      assert.equal(line.kind, (file.split('/')[2] ?? '').replace(/\.json$/, '').split('--')[0], file);
      assert.equal(line.cluster, 'orbit-prod/europe-west4/core-1');
    }
    const cart = lines.find((l) => l.pod === 'cart-6d8-a');
    assert.equal(cart?.ksa, 'cart');
    assert.equal(lines.find((l) => l.namespace === 'kube-system')?.ksa, undefined);
  });

  test('reads standard input, in each of the three envelopes, and a pretty-printed array', async () => {
    const entry = readSample('match/go/token-denied.json');
    const pushBody = {
      message: { data: Buffer.from(JSON.stringify(entry)).toString('base64'), messageId: '7' },
    };
    const envelopes = [entry, pushBody, asDelivery(entry, '8')];
    for (const args of [['symptoms', '-'], ['symptoms']]) {
      const result = await runCli(args, ndjson(envelopes));
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(
        findingsOf(result.stdout).map((l) => [l.line, l.signature]),
        [
          [1, 'go/token-denied'],
          [2, 'go/token-denied'],
          [3, 'go/token-denied'],
        ],
      );
    }
    // `gcloud logging read --format=json` prints one JSON array.
    const array = await runCli(
      ['symptoms', '-'],
      JSON.stringify([entry, readSample('noise/app-403.json')], null, 2),
    );
    assert.equal(array.code, 0, array.stderr);
    assert.deepEqual(
      findingsOf(array.stdout).map((l) => l.line),
      [1],
    );
  });

  test('redacts the sample: tokens and keys a failing workload printed never come out', async () => {
    const entry = readSample('match/python/invalid-grant.json');
    entry.textPayload = `${String(entry.textPayload)}assertion=eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJ4In0.c2lnbmF0dXJl access_token=ya29.a0AfH6SMBx3secret\n`;
    const result = await runCli(['symptoms', '-'], ndjson([entry]));
    assert.equal(result.code, 0, result.stderr);
    const [line] = findingsOf(result.stdout);
    assert.match(String(line?.sample), /invalid_grant/);
    assert.doesNotMatch(result.stdout, /eyJhbGciOiJSUzI1NiJ9|ya29\.a0AfH6SMBx3secret/);
    assert.doesNotMatch(result.stderr, /eyJhbGciOiJSUzI1NiJ9|ya29\.a0AfH6SMBx3secret/);
  });

  test('-v says why each other line is noise; undecodable lines are named with or without it', async () => {
    const input = [
      JSON.stringify(readSample('noise/app-403.json')),
      'not json',
      JSON.stringify({ hello: 'world' }),
      JSON.stringify(readSample('noise/not-a-container.json')),
      JSON.stringify(readSample('match/node/no-credentials.json')),
    ].join('\n');
    const quiet = await runCli(['symptoms', '-'], input);
    assert.equal(quiet.code, 0, quiet.stderr);
    assert.match(quiet.stderr, /^line 2: undecodable: not JSON/m);
    assert.match(quiet.stderr, /^line 3: undecodable: not a LogEntry/m);
    assert.doesNotMatch(quiet.stderr, /noise/);
    const verbose = await runCli(['symptoms', '-v', '-'], input);
    assert.equal(verbose.code, 0, verbose.stderr);
    assert.match(verbose.stderr, /^line 1: noise: no credential-failure signature$/m);
    assert.match(verbose.stderr, /^line 4: noise: not a k8s_container entry \(resource type k8s_node\)$/m);
    assert.doesNotMatch(verbose.stderr, /^line 5:/m);
    assert.match(verbose.stderr, /^1 credential failure in 1 group; 2 undecodable lines$/m);
  });

  test('ends with the groups the function would form: KSA, count, rate, first and last failure, and what pages', async () => {
    // cart fails every 20 s for 3 minutes (pages), indexer twice (does not), and cart again an hour
    // later: a new group, as the quiet window closed the first.
    const input = ndjson([
      ...series('match/go/token-denied.json', 10, 20),
      ...series('match/python/metadata-unreachable.json', 2, 30),
      ...series('match/go/metadata-unreachable.json', 3, 60, '2026-11-28T11:00:00Z'),
    ]);
    const result = await runCli(['symptoms', '--snapshot', snapshot, '-'], input);
    assert.equal(result.code, 0, result.stderr);
    const report = result.stderr.trim().split('\n');
    assert.equal(report[0], '15 credential failures in 3 groups');
    assert.equal(
      report[1],
      '  orbit-prod/europe-west4/core-1 checkout/cart: 10 (token-denied 10), 3.3/min, first 2026-11-28T10:00:00.000Z, last 2026-11-28T10:03:00.000Z; would page (wi-auth-failures) unless a change explains it',
    );
    assert.match(
      report[2] ?? '',
      /^ {2}orbit-prod\/europe-west4\/core-1 search\/indexer: 2 \(metadata-unreachable 2\), 2\.0\/min, first .*; would not page alone/,
    );
    assert.match(
      report[3] ?? '',
      /^ {2}orbit-prod\/europe-west4\/core-1 checkout\/cart: 3 \(metadata-unreachable 3\), .*first 2026-11-28T11:00:00\.000Z, last 2026-11-28T11:02:00\.000Z; would page/,
    );
  });

  test('groups in time order whatever the input order (exports list the newest entry first)', async () => {
    const newestFirst = series('match/go/token-denied.json', 4, 60).reverse();
    const result = await runCli(['symptoms', '-'], ndjson(newestFirst));
    assert.equal(result.code, 0, result.stderr);
    assert.match(
      result.stderr,
      /first 2026-11-28T10:00:00\.000Z, last 2026-11-28T10:03:00\.000Z; would page/,
    );
  });

  test('exits 2 for bad usage and for input it cannot read, naming what is wrong', async () => {
    const two = await runCli(['symptoms', 'a.ndjson', 'b.ndjson']);
    assert.equal(two.code, 2);
    assert.match(two.stderr, /symptoms takes one input file, got 2/);
    const option = await runCli(['symptoms', '--nope', '-']);
    assert.equal(option.code, 2);
    assert.match(option.stderr, /--nope/);
    const missing = await runCli(['symptoms', join(tmpdir(), 'wi-sentinel-no-such-file.ndjson')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /cannot read .*wi-sentinel-no-such-file\.ndjson: ENOENT/);
    const badSnapshot = await runCli(['symptoms', '--snapshot', tempFile('{'), '-'], '');
    assert.equal(badSnapshot.code, 2);
    assert.match(badSnapshot.stderr, /snapshot .* is not JSON/);
  });

  test('loads only its own modules: no other command, no client library', () => {
    const file = tempFile(ndjson([readSample('match/go/token-denied.json')]));
    const { urls, result } = traceImports(`
      const { main } = await import(${JSON.stringify(join(REPO_ROOT, 'cli/main.ts'))});
      let out = '';
      const io = { stdout: (t) => { out += t; }, stderr: () => {}, stdin: process.stdin };
      const code = await main(['symptoms', ${JSON.stringify(file)}], io);
      return { code, lines: out.trim().split('\\n').length };
    `);
    assert.deepEqual(result, { code: 0, lines: 1 });
    const cli = urls.filter((url) => url.includes('/cli/')).map((url) => url.replace(/.*\/cli\//, ''));
    assert.deepEqual([...new Set(cli)].sort(), ['io.ts', 'main.ts', 'symptoms.ts']);
    assert.deepEqual(
      urls.filter((url) => HEAVY_MODULE.test(url) || /@google-cloud\//.test(url)),
      [],
    );
  });
});
