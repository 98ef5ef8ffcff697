/** The CloudEvent's id (Pub/Sub's message id): names a delivery in logs, and a sweep run. */
export function idOf(event: unknown): string | undefined {
  const id = (event as { id?: unknown } | null)?.id;
  return typeof id === 'string' && id !== '' ? id : undefined;
}
