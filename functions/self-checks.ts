import type { Config } from '../shared/config.ts';
import type { Finding } from '../shared/domain/finding.ts';
import type { IncidentStore } from '../shared/incidents/store.ts';
import type { Logger } from '../shared/log.ts';
import {
  ownIdentity,
  selfCheckPortsFromConfig,
  selfCheckTargetFromConfig,
} from '../shared/reconcile/check-adapters.ts';
import { runSelfChecks } from '../shared/reconcile/self-checks.ts';

/** wi-sentinel's own service account, when it can be told: the grants repair commands name. */
export { ownIdentity };

/** The sweep's self-checks as the environment configures them (sink, topic, projects, identity). */
export async function runFromConfig(
  config: Config,
  { store, logger }: { store: IncidentStore; logger: Logger },
): Promise<Finding[]> {
  return runSelfChecks(selfCheckPortsFromConfig(config), {
    target: selfCheckTargetFromConfig(config, await ownIdentity(config)),
    store,
    logger,
  });
}
