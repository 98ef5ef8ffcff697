import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decode } from '../../../shared/events/decode.ts';
import type { LogEntry } from '../../../shared/events/schemas.ts';
import { FIXTURES } from '../../support/paths.ts';

export const SYMPTOM_FIXTURES = join(FIXTURES, 'symptoms');

export interface Sample {
  /** Path under test/fixtures/symptoms. */
  file: string;
  raw: Record<string, unknown>;
  entry: LogEntry;
}

/** A positive sample: `match/LIBRARY/KIND[--variant].json` says what it must be recognised as. */
export interface MatchSample extends Sample {
  library: string;
  kind: string;
}

/** One sample's JSON as it is on disk (`file` under test/fixtures/symptoms). */
export function readSample(file: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(SYMPTOM_FIXTURES, file), 'utf8')) as Record<string, unknown>;
}

function load(file: string): Sample {
  const raw = readSample(file);
  const decoded = decode(raw);
  if (!decoded.ok) assert.fail(`${file} does not decode: ${decoded.error}`);
  return { file, raw, entry: decoded.delivery.entry };
}

/** The samples of one side (`match/go/….json`, `noise/….json`), in name order. */
export function sampleFiles(side: 'match' | 'noise'): string[] {
  return readdirSync(join(SYMPTOM_FIXTURES, side), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.json'))
    .map((file) => join(side, file))
    .sort();
}

export function matchSamples(): MatchSample[] {
  return sampleFiles('match').map((file) => {
    const [, library, name] = file.split('/');
    const kind = (name ?? '').replace(/\.json$/, '').split('--')[0] ?? '';
    return { ...load(file), library: library ?? '', kind };
  });
}

export function noiseSamples(): Sample[] {
  return sampleFiles('noise').map(load);
}

/** Where each sample's wording comes from (`sources.json`): a URL, or `owner/repo path @ version`. */
export interface SampleSource {
  source: string;
  /** The releases (or the kind of look-alike) the sample stands for. */
  era: string;
}

export function sampleSources(): Record<string, SampleSource> {
  return JSON.parse(readFileSync(join(SYMPTOM_FIXTURES, 'sources.json'), 'utf8')) as Record<
    string,
    SampleSource
  >;
}

export function monitoringFixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(SYMPTOM_FIXTURES, 'monitoring', `${name}.json`), 'utf8')) as Record<
    string,
    unknown
  >;
}

/** A LogEntry wrapped as Eventarc delivers a Pub/Sub message: base64 JSON in data.message.data. */
export function asDelivery(entry: unknown, id = '1', json = JSON.stringify(entry)): Record<string, unknown> {
  return {
    specversion: '1.0',
    type: 'google.cloud.pubsub.topic.v1.messagePublished',
    source: '//pubsub.googleapis.com/projects/orbit-prod/topics/wi-sentinel-workload-logs',
    id,
    data: { message: { data: Buffer.from(json).toString('base64'), messageId: id } },
  };
}
