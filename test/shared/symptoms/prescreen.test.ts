import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { entryJsonOf, mayHoldSymptom, worthDecoding } from '../../../shared/symptoms/prescreen.ts';
import { asDelivery, matchSamples, noiseSamples } from './fixtures.ts';

/** JSON as Gson writes it by default: `<`, `>`, `&`, `=` and `'` as \u00XX escapes. */
function gsonStyle(value: unknown): string {
  return JSON.stringify(value).replace(
    /[<>&=']/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

describe('prescreen: the noise path', () => {
  it('passes every real-wording sample, however its JSON was escaped', () => {
    let changed = 0;
    for (const sample of matchSamples()) {
      assert.ok(worthDecoding(asDelivery(sample.raw)), sample.file);
      const escaped = gsonStyle(sample.raw);
      if (escaped !== JSON.stringify(sample.raw)) changed += 1;
      assert.ok(worthDecoding(asDelivery(sample.raw, '2', escaped)), `${sample.file} (escaped)`);
    }
    assert.ok(changed > 10, 'the escaping changes most samples');
  });

  it('drops noise with no needle, and non-container entries, without parsing them', () => {
    for (const name of ['app-403', 'gcs-permission-403', 'token-words', 'health-check', 'not-a-container']) {
      const sample = noiseSamples().find((s) => s.file === `noise/${name}.json`);
      assert.ok(sample, name);
      assert.equal(worthDecoding(asDelivery(sample.raw)), false, name);
    }
  });

  it('lets anything it cannot read take the full decode path', () => {
    const bare = matchSamples()[0]?.raw;
    assert.ok(bare);
    assert.equal(worthDecoding(bare), true, 'a bare LogEntry');
    assert.equal(worthDecoding({ message: { attributes: {} } }), true, 'a push body without data');
    assert.equal(worthDecoding('not json'), true);
  });

  it('reads the entry from a push body as well as from a CloudEvent', () => {
    const raw = noiseSamples()[0]?.raw;
    const event = asDelivery(raw);
    const push = {
      message: (event.data as { message: unknown }).message,
      subscription: 'projects/p/subscriptions/s',
    };
    assert.equal(entryJsonOf(push), JSON.stringify(raw));
    assert.equal(entryJsonOf(event), JSON.stringify(raw));
  });

  it('needs the container resource type and a needle (or the metadata server) together', () => {
    assert.equal(mayHoldSymptom('{"resource":{"type":"k8s_container"},"textPayload":"ok"}'), false);
    assert.equal(mayHoldSymptom('{"resource":{"type":"gce_instance"},"textPayload":"invalid_grant"}'), false);
    assert.equal(mayHoldSymptom('{"resource":{"type":"k8s_container"},"textPayload":"invalid_grant"}'), true);
    assert.equal(
      mayHoldSymptom(
        '{"resource":{"type":"k8s_container","labels":{"container_name":"gke-metadata-server"}}}',
      ),
      true,
    );
  });
});
