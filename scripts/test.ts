// `npm test`: every test/**/*.test.ts under Node's test runner. The conformance suite over the shared
// corpora (../shared/fixtures) runs whenever that folder exists; when it does not, this says so.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { REPO_ROOT, sharedFixturesDir } from '../test/support/paths.ts';

const testDir = join(REPO_ROOT, 'test');
const only = process.argv.slice(2);
const shared = sharedFixturesDir();

const files = readdirSync(testDir, { recursive: true, encoding: 'utf8' })
  .filter((file) => file.endsWith('.test.ts'))
  .map((file) => join(testDir, file))
  .filter((file) => shared !== undefined || !relative(testDir, file).startsWith('conformance'))
  .filter((file) => only.length === 0 || only.some((part) => file.includes(part)))
  .sort();

// `node --test` with no file runs everything: a filter that matches nothing is a mistake, say so.
if (files.length === 0) {
  process.stderr.write(`no test file matches ${only.map((part) => JSON.stringify(part)).join(' or ')}\n`);
  process.exit(2);
}

if (shared === undefined) {
  process.stdout.write(
    'conformance suite NOT RUN: ../shared/fixtures does not exist beside the repository\n',
  );
} else {
  process.stdout.write(`conformance suite: running against ${shared}\n`);
}

const run = spawnSync(process.execPath, ['--test', '--test-reporter=spec', ...files], {
  stdio: 'inherit',
  cwd: REPO_ROOT,
  // Tests talk to loopback only: google-auth-library must never look for a GCE metadata server.
  env: { ...process.env, METADATA_SERVER_DETECTION: 'none' },
});
process.exit(run.status ?? 1);
