import type { Call } from '../../domain/call.js';
import type { ChannelProvider } from '../channel-provider.js';

/**
 * Serves every test-mode call on any channel pair. Calls are accepted and stay INITIATED until
 * the lifecycle (next issue) drives them.
 */
export class SimulatorProvider implements ChannelProvider {
  readonly name = 'simulator';

  async placeCall(_call: Call): Promise<void> {}
}
