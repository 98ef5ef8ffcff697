import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { classifySymptom, textOf } from '../../../shared/symptoms/classify.ts';
import {
  hasNeedle,
  LIBRARIES,
  matchSymptom,
  meetsRule,
  NEEDLES,
  SIGNATURES,
  SYMPTOM_KINDS,
} from '../../../shared/symptoms/signatures.ts';
import { matchSamples, noiseSamples, SYMPTOM_FIXTURES, sampleSources } from './fixtures.ts';

/** The libraries and tools the wording history covers (issue 14), each kind they print in two eras. */
const CLIENTS = ['go', 'python', 'java', 'node', 'dotnet', 'gcloud', 'gsutil'] as const;

/**
 * Noise that looks like a signature: each holds one of its needles, so the pattern is what tells
 * them apart (another cloud's metadata service, an API that is disabled, another OAuth provider, a
 * user's refresh token, a sidecar's access log).
 */
const LOOK_ALIKES: Record<string, string[]> = {
  'noise/aws-imds-timeout.json': ['python/metadata-unreachable-urllib3', 'node/metadata-unreachable'],
  'noise/azure-imds-refused.json': ['node/metadata-unreachable', 'dotnet/metadata-unreachable'],
  'noise/azure-dotnet-imds.json': ['dotnet/metadata-unreachable'],
  'noise/istio-proxy-azure-timeout.json': ['node/metadata-unreachable'],
  'noise/istio-proxy-access-log.json': ['go/metadata-unreachable', 'node/metadata-unreachable'],
  'noise/health-check-metadata.json': ['go/metadata-unreachable', 'node/metadata-unreachable'],
  'noise/startup-config-metadata.json': ['python/metadata-unreachable-urllib3', 'go/metadata-unreachable'],
  'noise/metadata-ip-mentioned.json': ['node/metadata-unreachable'],
  'noise/node-v3-api-disabled-403.json': ['node/token-denied'],
  'noise/node-v3-permission-403.json': ['node/token-denied'],
  'noise/java-api-403.json': ['java/token-denied-http'],
  'noise/okta-invalid-grant-go.json': ['go/invalid-grant'],
  'noise/google-user-refresh-revoked.json': ['python/invalid-grant'],
  'noise/user-oauth-invalid-grant.json': ['node/invalid-grant'],
};

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

  it('cites where each wording is written: owner/repo, the file, the releases that print it', () => {
    for (const { id, source } of SIGNATURES) {
      assert.match(source.repo, /^[\w.-]+\/[\w.-]+$/, id);
      assert.ok(source.path.length > 0, id);
      assert.match(source.versions, /\d/, `${id} names no release`);
    }
  });

  it('uses needles that survive any JSON encoding (no quotes, backslashes, slashes, HTML or = characters)', () => {
    for (const needle of NEEDLES) assert.match(needle, /^[A-Za-z0-9 .,:;_()-]+$/, needle);
  });

  it('writes alongside terms in lower case (they are compared without regard to case, as Logging does)', () => {
    for (const { id, alongside } of SIGNATURES) {
      for (const term of alongside ?? []) assert.equal(term, term.toLowerCase(), `${id}: ${term}`);
    }
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
      if (signature.unless) assert.equal(signature.unless.global || signature.unless.sticky, false);
    }
  });

  it('recognises each signature in at least one sample', () => {
    const matched = new Set(
      matchSamples()
        .map((s) => classifySymptom(s.entry))
        .map((r) => r.type === 'symptom' && r.symptom.signature),
    );
    // The metadata server's own pods are named by where they run, not by the signature.
    for (const sample of matchSamples())
      matched.add(matchSymptom(textOf(sample.entry))?.signature.id ?? false);
    for (const signature of SIGNATURES) {
      assert.ok(matched.has(signature.id), `no sample is recognised by ${signature.id}`);
    }
  });
});

describe('signatures: the samples', () => {
  const samples = matchSamples();
  const sources = sampleSources();

  it('cover every library, and every kind', () => {
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
  });

  it('give each client every kind its signatures print, from two eras of its wording at least', () => {
    for (const library of CLIENTS) {
      const kinds = new Set(SIGNATURES.filter((s) => s.library === library).map((s) => s.kind));
      for (const kind of kinds) {
        const eras = new Set(
          samples.filter((s) => s.library === library && s.kind === kind).map((s) => sources[s.file]?.era),
        );
        assert.ok(eras.size >= 2, `${library} / ${kind}: ${eras.size} era(s) sampled`);
      }
    }
  });

  it('each cite their source: a URL, or owner/repo, a path and a version', () => {
    const files = [...samples, ...noiseSamples()].map((s) => s.file).sort();
    assert.deepEqual(Object.keys(sources).sort(), files, 'sources.json lists exactly the samples');
    for (const [file, { source, era }] of Object.entries(sources)) {
      assert.ok(existsSync(join(SYMPTOM_FIXTURES, file)), file);
      assert.match(source, /^(?:https:\/\/\S+.*|[\w.-]+\/[\w.-]+ \S.*|written for wi-sentinel: .+)$/, file);
      assert.ok(era.length > 0, file);
    }
    for (const [file, { source }] of Object.entries(sources)) {
      if (file.startsWith('match/'))
        assert.match(source, /https:\/\/\S+|@ [^;]*\d/, `${file}: which version?`);
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

  it('every recognised text meets its signature’s rule: a needle, and an alongside term (what the sink filter asks for)', () => {
    for (const sample of matchSamples()) {
      const signature = matchSymptom(textOf(sample.entry))?.signature;
      if (signature === undefined) continue; // the gke-metadata-server pod: matched by where it runs
      assert.ok(meetsRule(signature, textOf(sample.entry)), sample.file);
    }
  });

  it('a sidecar answering for the metadata server makes a server error an unreachable one', () => {
    const behind = matchSymptom(
      'compute: Received 503 `upstream connect error or disconnect/reset before headers. reset reason: connection failure`',
    );
    assert.equal(behind?.signature.id, 'go/metadata-server-error');
    assert.equal(behind?.kind, 'metadata-unreachable');
    assert.equal(
      matchSymptom('compute: Received 503 `GKE Metadata Server: Service Unavailable`')?.kind,
      'metadata-server-error',
    );
  });

  it('a broad needle alone is not enough: the metadata address needs a failure beside it', () => {
    const ok = 'Get "http://169.254.169.254/computeMetadata/v1/instance/service-accounts/default/token": EOF';
    assert.equal(matchSymptom(ok), undefined);
    assert.equal(
      matchSymptom(`${ok.replace('EOF', 'dial tcp 169.254.169.254:80: connect: connection refused')}`)?.kind,
      'metadata-unreachable',
    );
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

  for (const [file, ids] of Object.entries(LOOK_ALIKES)) {
    it(`${file} holds a needle of ${ids.join(', ')} and is told apart by the rest of the message`, () => {
      const sample = noiseSamples().find((s) => s.file === file);
      assert.ok(sample, file);
      const text = textOf(sample.entry);
      for (const id of ids) {
        const signature = SIGNATURES.find((s) => s.id === id);
        assert.ok(signature, id);
        assert.ok(
          signature.needles.some((needle) => text.includes(needle)),
          `${file} holds no needle of ${id}`,
        );
      }
      assert.equal(matchSymptom(text), undefined);
    });
  }
});

describe('signatures: cost on hostile input', () => {
  it('answers within linear time on 256 KB of near-misses', () => {
    const nearMisses = [
      'There was a problem refreshing your current auth tokens: Failed to retrieve x from the Google Compute Engine metadata service. Status: 2',
      'java.net.SocketTimeoutException: connect timed out\n\tat com.google.auth.oauth2.ComputeEngineCredentialsX ',
      'System.Net.Http.HttpRequestException: Connection refused (169.254.169.254:80) Google.Apis.AuthX ',
      'Get "http://169.254.169.254/computeMetadata/v1/x": timeout ',
    ];
    for (const nearMiss of nearMisses) {
      const text = nearMiss.repeat(Math.ceil((256 * 1024) / nearMiss.length));
      const start = performance.now();
      matchSymptom(text);
      assert.ok(
        performance.now() - start < 500,
        `matching 256 KB of ${JSON.stringify(nearMiss.slice(0, 30))} took more than 500 ms`,
      );
    }
  });
});
