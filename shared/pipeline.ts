import { detect } from './detect/index.ts';
import type { Finding } from './domain/finding.ts';
import type { ChangeEvent } from './events/change-event.ts';
import { classify } from './events/classify.ts';
import { type Delivery, decode, decodeText } from './events/decode.ts';
import type { Snapshot } from './inventory/snapshot.ts';

/** decode → classify → detect, pure: what one delivery means. */
export type Analysis =
  | { outcome: 'invalid'; error: string }
  | { outcome: 'ignored'; reason: string; delivery: Delivery }
  | { outcome: 'change'; event: ChangeEvent; findings: Finding[]; delivery: Delivery };

export function analyze(input: unknown, snapshot?: Snapshot): Analysis {
  return analyzeDecoded(typeof input === 'string' ? decodeText(input) : decode(input), snapshot);
}

function analyzeDecoded(decoded: ReturnType<typeof decode>, snapshot: Snapshot | undefined): Analysis {
  if (!decoded.ok) return { outcome: 'invalid', error: decoded.error };
  const { delivery } = decoded;
  const event = classify(delivery.entry);
  if (event.type === 'ignored') return { outcome: 'ignored', reason: event.reason, delivery };
  return { outcome: 'change', event, findings: detect(event, snapshot), delivery };
}
