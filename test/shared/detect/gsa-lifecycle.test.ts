import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { gsaDisabled, gsaMissing } from '../../../shared/detect/gsa-lifecycle.ts';
import { loadSnapshot, ORBIT } from '../../support/snapshots.ts';
import { checkCase } from './cases/case.ts';
import { gsaLifecycle } from './cases/events.ts';
import { GSA_DISABLED, GSA_MISSING } from './cases/gsa-lifecycle.ts';

describe('gsa-missing', () => {
  for (const c of GSA_MISSING) test(c.name, () => void checkCase(c));

  test('firing and resolved share a fingerprint (email or unique id alike)', () => {
    const snapshot = loadSnapshot();
    const [firing] = gsaMissing.detect(gsaLifecycle('delete', { gsa: ORBIT.cart }), snapshot);
    const [resolved] = gsaMissing.detect(
      gsaLifecycle('undelete', { gsaUniqueId: '104200000000000000011' }),
      snapshot,
    );
    assert.equal(firing?.fingerprint, resolved?.fingerprint);
    assert.deepEqual([firing?.status, resolved?.status], ['firing', 'resolved']);
  });

  test('recreated without a unique id: every binding must be granted again', () => {
    const snapshot = loadSnapshot();
    const [finding] = gsaMissing.detect(gsaLifecycle('delete', { gsa: ORBIT.cart }), {
      projects: snapshot.projects.map((p) => ({
        ...p,
        serviceAccounts: p.serviceAccounts.map(({ uniqueId: _, ...gsa }) => gsa),
      })),
    });
    assert.deepEqual(
      finding?.remediation?.map((step) => step.command),
      [
        'gcloud iam service-accounts create cart --project orbit-prod',
        `gcloud iam service-accounts add-iam-policy-binding ${ORBIT.cart} --role roles/iam.workloadIdentityUser --member "serviceAccount:orbit-prod.svc.id.goog[checkout/cart]"`,
        `gcloud iam service-accounts add-iam-policy-binding ${ORBIT.cart} --role roles/iam.workloadIdentityUser --member "serviceAccount:orbit-prod.svc.id.goog[checkout/pricing]"`,
      ],
    );
  });
});

describe('gsa-disabled', () => {
  for (const c of GSA_DISABLED) test(c.name, () => void checkCase(c));

  test('firing and resolved share a fingerprint', () => {
    const [firing] = gsaDisabled.detect(gsaLifecycle('disable', { gsa: ORBIT.indexer }));
    const [resolved] = gsaDisabled.detect(gsaLifecycle('enable', { gsa: ORBIT.indexer }));
    assert.equal(firing?.fingerprint, resolved?.fingerprint);
  });
});
