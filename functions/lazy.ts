/**
 * A handler whose module is imported on its first call. Every function is deployed from the same
 * entry, each instance serving one target: an instance of auditEvents never loads the sweep, the
 * slash command or their dependencies, and its cold start pays for none of them.
 */
export function lazily<A extends unknown[], R>(
  load: () => Promise<(...args: A) => R | Promise<R>>,
): (...args: A) => Promise<R> {
  let handler: Promise<(...args: A) => R | Promise<R>> | undefined;
  return async (...args) => {
    handler ??= load().catch((error: unknown) => {
      handler = undefined;
      throw error;
    });
    return (await handler)(...args);
  };
}
