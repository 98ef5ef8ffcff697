import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifySymptom, textOf } from '../../../shared/symptoms/classify.ts';
import {
  hasNeedle,
  LIBRARIES,
  matchSignature,
  NEEDLES,
  SIGNATURES,
  SYMPTOM_KINDS,
} from '../../../shared/symptoms/signatures.ts';
import { matchSamples, noiseSamples } from './fixtures.ts';

describe('signatures: the registry', () => {
  it('has unique ids of the form library/kind[-qualifier], with known libraries and kinds', () => {
    const ids = SIGNATURES.map((s) => s.id);
    assert.deepEqual(ids, [...new Set(ids)]);
    for (const signature of SIGNATURES) {
      assert.ok(signature.id.startsWith(`${signature.library}/${signature.kind}`), signature.id);
      assert.ok((LIBRARIES as readonly string[]).includes(signature.library), signature.id);
      assert.ok((SYMPTOM_KINDS as readonly string[]).includes(signature.kind), signature.id);
    }
  });

  it('cites where each wording is written (owner/repo and a path)', () => {
    for (const signature of SIGNATURES) {
      assert.match(signature.source.repo, /^[\w.-]+\/[\w.-]+$/, signature.id);
      assert.ok(signature.source.path.length > 0, signature.id);
    }
  });

  it('uses needles that survive any JSON encoding (no quotes, backslashes, slashes, HTML or = characters)', () => {
    for (const needle of NEEDLES) assert.match(needle, /^[A-Za-z0-9 .,:;_()-]+$/, needle);
  });

  it('finds every needle anywhere in a text, literally (the alternation escapes . and parentheses)', () => {
    for (const needle of NEEDLES) {
      assert.equal(hasNeedle(`prefix ${needle} suffix`), true, needle);
    }
    assert.equal(hasNeedle('169x254x169x254 metadataxgooglexinternal'), false);
  });

  it('has stateless patterns (no g or y flag, so test() does not remember lastIndex)', () => {
    for (const signature of SIGNATURES) {
      assert.equal(signature.pattern.global || signature.pattern.sticky, false, signature.id);
    }
  });

  it('covers every library and every kind with at least one real-wording sample', () => {
    const samples = matchSamples();
    for (const library of LIBRARIES) {
      assert.ok(
        samples.some((s) => s.library === library),
        `no sample under match/${library}`,
      );
    }
    for (const kind of SYMPTOM_KINDS) {
      assert.ok(
        samples.some((s) => s.kind === kind),
        `no sample of kind ${kind}`,
      );
    }
    const matched = new Set(
      samples.map((s) => classifySymptom(s.entry)).map((r) => r.type === 'symptom' && r.symptom.signature),
    );
    for (const signature of SIGNATURES) {
      assert.ok(matched.has(signature.id), `no sample is recognised by ${signature.id}`);
    }
  });
});

describe('signatures: real wording per library', () => {
  for (const sample of matchSamples()) {
    it(`${sample.file} is ${sample.library} / ${sample.kind}`, () => {
      const result = classifySymptom(sample.entry);
      assert.equal(result.type, 'symptom', result.type === 'ignored' ? result.reason : '');
      if (result.type !== 'symptom') return;
      assert.equal(result.symptom.library, sample.library);
      assert.equal(result.symptom.kind, sample.kind);
    });
  }

  it('every recognised text holds one of its own signature needles (what the sink filter asks for)', () => {
    for (const sample of matchSamples()) {
      const signature = matchSignature(textOf(sample.entry));
      if (signature === undefined) continue; // the gke-metadata-server pod: matched by where it runs
      assert.ok(
        signature.needles.some((needle) => textOf(sample.entry).includes(needle)),
        sample.file,
      );
    }
  });
});

describe('signatures: noise that must not match', () => {
  for (const sample of noiseSamples()) {
    it(`${sample.file} is ignored`, () => {
      const result = classifySymptom(sample.entry);
      assert.equal(result.type, 'ignored', result.type === 'symptom' ? result.symptom.signature : '');
    });
  }

  it('application 403s, token words and health checks do not even reach a pattern', () => {
    for (const name of ['app-403', 'gcs-permission-403', 'python-forbidden', 'token-words', 'health-check']) {
      const sample = noiseSamples().find((s) => s.file === `noise/${name}.json`);
      assert.ok(sample, name);
      assert.equal(hasNeedle(textOf(sample.entry)), false, name);
    }
  });

  it('text holding a needle but none of the wordings is not a symptom (the pattern decides)', () => {
    for (const name of ['user-oauth-invalid-grant', 'metadata-ip-mentioned']) {
      const sample = noiseSamples().find((s) => s.file === `noise/${name}.json`);
      assert.ok(sample, name);
      assert.equal(hasNeedle(textOf(sample.entry)), true, name);
      assert.equal(matchSignature(textOf(sample.entry)), undefined, name);
    }
  });
});

describe('signatures: cost on hostile input', () => {
  it('answers within linear time on 256 KB of near-misses', () => {
    const nearMiss =
      'There was a problem refreshing your current auth tokens: Failed to retrieve x from the Google Compute Engine metadata service. Status: 2';
    const text = nearMiss.repeat(Math.ceil((256 * 1024) / nearMiss.length));
    const start = performance.now();
    assert.equal(matchSignature(text), undefined);
    assert.ok(performance.now() - start < 500, 'matching 256 KB took more than 500 ms');
  });
});
