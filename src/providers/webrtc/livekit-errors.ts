import { TwirpError } from 'livekit-server-sdk';
import { ProviderError } from '../../domain/channel-provider.js';

/** Runs a LiveKit SDK request; a failure becomes a ProviderError with LiveKit's own message. */
export async function livekit<T>(request: () => Promise<T>): Promise<T> {
  try {
    return await request();
  } catch (error) {
    if (error instanceof TwirpError) {
      throw new ProviderError('livekit', `${error.message}${error.code ? ` (${error.code})` : ''}`, error.status);
    }
    throw new ProviderError('livekit', `LiveKit could not be reached: ${(error as Error)?.message ?? String(error)}`);
  }
}
