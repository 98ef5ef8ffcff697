import { detect } from './detect/index.ts';
import type { Finding } from './domain/finding.ts';
import type { ChangeEvent } from './events/change-event.ts';
import { classify, ignoreUnparsed } from './events/classify.ts';
import { type Delivery, parseUnwrapped, unparsedDelivery, unwrap, unwrapText } from './events/decode.ts';
import type { Snapshot } from './inventory/snapshot.ts';

/** decode → classify → detect, pure: what one delivery means. */
export type Analysis =
  | { outcome: 'invalid'; error: string }
  | { outcome: 'ignored'; reason: string; delivery: Delivery }
  | { outcome: 'change'; event: ChangeEvent; findings: Finding[]; delivery: Delivery };

export function analyze(input: unknown, snapshot?: Snapshot): Analysis {
  const unwrapped = typeof input === 'string' ? unwrapText(input) : unwrap(input);
  if (!unwrapped.ok) return { outcome: 'invalid', error: unwrapped.error };
  // Most entries change nothing watched: said from a look at their method, before the schema parse.
  const reason = ignoreUnparsed(unwrapped.entry);
  if (reason !== undefined) return { outcome: 'ignored', reason, delivery: unparsedDelivery(unwrapped) };
  const decoded = parseUnwrapped(unwrapped);
  if (!decoded.ok) return { outcome: 'invalid', error: decoded.error };
  const { delivery } = decoded;
  const event = classify(delivery.entry);
  if (event.type === 'ignored') return { outcome: 'ignored', reason: event.reason, delivery };
  return { outcome: 'change', event, findings: detect(event, snapshot), delivery };
}
