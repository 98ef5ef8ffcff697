import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { unsetKeyFile } from '../../../shared/chain/remediation.ts';

describe('unsetKeyFile', () => {
  it('edits the pod template of a controller', () => {
    assert.equal(
      unsetKeyFile({ kind: 'Deployment', name: 'cart', namespace: 'checkout' }).command,
      'kubectl set env deployment/cart -n checkout GOOGLE_APPLICATION_CREDENTIALS-',
    );
  });

  it('recreates a bare Pod, whose spec cannot be edited', () => {
    const repair = unsetKeyFile({ kind: 'Pod', name: 'toolbox', namespace: 'checkout' });
    assert.match(repair.title, /^Recreate Pod checkout\/toolbox without GOOGLE_APPLICATION_CREDENTIALS$/);
    assert.match(repair.command, /^kubectl get pod toolbox -n checkout -o yaml > toolbox\.yaml/);
    assert.match(repair.command, /kubectl replace --force -f toolbox\.yaml$/);
    assert.doesNotMatch(repair.command, /set env pod/);
  });
});
