import type { Config } from '../../config.js';
import type { CallLifecycle, ProviderCallbacks } from '../../domain/call-lifecycle.js';
import type { Call } from '../../domain/call.js';
import type { CallStore } from '../../domain/call-store.js';
import { ProviderRegistry } from '../../domain/channel-provider.js';
import { CallCommandStatus, CallCommandType } from '../../domain/command-rules.js';
import type { Logger } from '../../domain/logger.js';
import { createLiveProviders, type LiveProviders } from '../../providers/live-providers.js';
import { SimulatorProvider } from '../../providers/simulator/simulator-provider.js';
import { PeriodicRunner } from '../../shared/runners.js';
import type { Shutdown } from '../shutdown.js';

export interface ProviderParts {
  simulator: SimulatorProvider;
  live: LiveProviders;
  providers: ProviderRegistry;
}

/**
 * The channel providers: the simulator for test mode, the live ones built from config (or the
 * test double `liveProviders`), and the sweep that covers lost provider callbacks.
 */
export async function startProviders(
  config: Config,
  store: CallStore,
  lifecycle: CallLifecycle,
  logger: Logger,
  shutdown: Shutdown,
  liveProviders: ((callbacks: ProviderCallbacks) => LiveProviders) | undefined,
): Promise<ProviderParts> {
  const simulator = new SimulatorProvider(lifecycle, store, logger, {
    timeScale: config.simulatorTimeScale,
    sweepMs: config.tuning.simulatorSweepMs,
    maxInFlight: config.simulatorMaxInFlight,
  });
  await simulator.start();
  shutdown.add('simulator', () => simulator.stop());
  // Nothing to stop: their SDK clients hold no sockets or timers between requests.
  const live = (liveProviders ?? ((callbacks) => createLiveProviders(config.providers, callbacks, logger)))(lifecycle);
  const providers = new ProviderRegistry({ test: simulator, live: (from, to) => live.route(from, to), byName: live.all });
  startProviderSweep(config, lifecycle, providers, logger, shutdown);
  return { simulator, live, providers };
}

/**
 * Lost callbacks: overdue commands fail, live calls stuck before answer are hung up at their
 * provider (best effort, logged) and end FAILED. One sweep at a time: a run that outlasts the
 * interval is followed by one more, not overlapped.
 */
function startProviderSweep(config: Config, lifecycle: CallLifecycle, providers: ProviderRegistry, logger: Logger, shutdown: Shutdown): void {
  const hangUpStuck = async (call: Call): Promise<void> => {
    const provider = providers.byName(call.provider);
    // No provider id: the provider never took the call (its placement did not finish), nothing to hang up.
    if (!provider || !call.providerCallId) return;
    const now = new Date();
    try {
      await provider.execute(call, {
        id: `sweep_${call.id}`,
        callId: call.id,
        type: CallCommandType.HANGUP,
        status: CallCommandStatus.ACCEPTED,
        args: { type: CallCommandType.HANGUP },
        error: null,
        createdAt: now,
        updatedAt: now,
      });
    } catch (error) {
      logger.warn('stuck call not hung up at its provider; ending it here', { callId: call.id, provider: provider.name, error: (error as Error).message });
    }
  };
  const sweeper = new PeriodicRunner(
    () =>
      lifecycle
        .sweep({ commandTimeoutMs: config.commandTimeoutMs, setupTimeoutMs: config.callSetupTimeoutMs }, hangUpStuck)
        .catch((error) => logger.error('provider sweep failed', { error: (error as Error).message })),
    config.tuning.providerSweepMs,
  ).start();
  shutdown.add('provider sweep', () => sweeper.stop());
}
