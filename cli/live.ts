import type { Config } from '../shared/config.ts';
import type { LiveState } from '../shared/gcp/ports.ts';

/** Builds live state from the configuration (a parameter, so a command can be given another). */
export type LiveStateFactory = (config: Config) => Promise<LiveState>;

/**
 * Live state as the configuration says: loaded only when a command reads live state, so `--snapshot`
 * never reaches the adapters (each loads its client library on first use).
 */
export async function liveStateOf(config: Config): Promise<LiveState> {
  const { liveStateFromConfig } = await import('../shared/gcp/live.ts');
  return liveStateFromConfig(config);
}
