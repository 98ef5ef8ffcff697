import { MAX_DELIVERY_BASE64 } from '../events/decode.ts';
import { hasNeedle, METADATA_SERVER_POD } from './signatures.ts';

/**
 * The noise path: 99% of container log deliveries carry no credential failure, and parsing and
 * validating each one (decode.ts) costs far more than looking at its text. A delivery's LogEntry
 * JSON can only yield a symptom if it names a container entry and holds a signature's needle (or
 * the gke-metadata-server container): needles are chosen so that any JSON serialisation keeps
 * them verbatim (signatures.ts), so a `false` here is never a missed symptom.
 */
export function mayHoldSymptom(entryJson: string): boolean {
  if (!entryJson.includes('k8s_container')) return false;
  return hasNeedle(entryJson) || entryJson.includes(METADATA_SERVER_POD.container);
}

function field(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
}

/**
 * The LogEntry JSON text inside a delivery, without parsing or validating anything else: the
 * base64 `message.data` of a Pub/Sub push body or of the CloudEvent Eventarc delivers. Undefined
 * for any other shape (a bare LogEntry, a malformed delivery), and for data too large to be an
 * entry (it is never decoded here: decode.ts refuses it by its length alone).
 */
export function entryJsonOf(delivery: unknown): string | undefined {
  const message = field(field(delivery, 'data'), 'message') ?? field(delivery, 'message');
  const data = field(message, 'data');
  if (typeof data !== 'string' || data.length > MAX_DELIVERY_BASE64) return undefined;
  return Buffer.from(data, 'base64').toString('utf8');
}

/** False only when the delivery certainly holds no symptom; true sends it to decode → classify. */
export function worthDecoding(delivery: unknown): boolean {
  const json = entryJsonOf(delivery);
  return json === undefined || mayHoldSymptom(json);
}
