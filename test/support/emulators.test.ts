import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startFirestoreEmulator, startPubSubEmulator } from './emulators.ts';

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (error) {
    assert.equal((error as NodeJS.ErrnoException).code, 'ESRCH');
    return false;
  }
}

describe('emulators', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wi-emulators-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** A stand-in for gcloud: a shell script. */
  async function fakeGcloud(body: string): Promise<string> {
    const file = join(dir, `gcloud-${Math.random().toString(36).slice(2)}`);
    await writeFile(file, `#!/bin/sh\n${body}\n`);
    await chmod(file, 0o755);
    return file;
  }

  it('fails naming gcloud and the component when gcloud is missing', async () => {
    await assert.rejects(
      startFirestoreEmulator({ gcloud: join(dir, 'no-gcloud') }),
      /no-gcloud not found \(install google-cloud-cli and google-cloud-cli-firestore-emulator\)/,
    );
  });

  it('fails with gcloud’s own output when the emulator component is missing', async () => {
    const gcloud = await fakeGcloud(
      'echo "ERROR: (gcloud.emulators.firestore.start) You do not currently have this command group installed." >&2\nexit 1',
    );
    await assert.rejects(
      startFirestoreEmulator({ gcloud }),
      /exited \(code 1\).*google-cloud-cli-firestore-emulator.*You do not currently have this command group/s,
    );
  });

  it('gives up after its timeout with the output, leaving no process of the group', async () => {
    const gcloud = await fakeGcloud('echo "group $$"\nsleep 30 &\nwait');
    const error = await startPubSubEmulator({ gcloud, timeoutMs: 300 }).then(
      () => assert.fail('started'),
      (failure: Error) => failure,
    );
    assert.match(
      error.message,
      /Pub\/Sub emulator did not answer on http:\/\/127\.0\.0\.1:\d+\/ within 300 ms/,
    );
    const pgid = Number(/group (\d+)/.exec(error.message)?.[1]);
    assert.ok(pgid > 0, error.message);
    assert.equal(groupAlive(pgid), false);
  });

  it('starts the Pub/Sub emulator, which then serves its REST API, and stops its whole group', async () => {
    const emulator = await startPubSubEmulator({ projectId: 'demo-emulators' });
    try {
      const response = await fetch(
        `http://${emulator.host}/v1/projects/demo-emulators/topics/wi-sentinel-audit`,
        {
          method: 'PUT',
        },
      );
      assert.equal(response.status, 200, await response.text());
    } finally {
      await emulator.stop();
    }
    assert.equal(groupAlive(emulator.pid), false);
    await emulator.stop(); // twice is fine
  });
});
