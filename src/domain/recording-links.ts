import type { Viewer } from './call-store.js';
import { callMatches } from './filter-match.js';
import type { ProviderRegistry } from './channel-provider.js';
import { RecordingStatus } from './command-rules.js';
import type { CommandStore } from './command-store.js';
import { looksLikeRecordingId } from './ids.js';

/**
 * Where a saved recording's file can be fetched now. The API's `Recording.url` points at the
 * gateway (GET /recordings/{id}, with the application's key), which redirects here: to the
 * provider's permanent link, or to a fresh one the provider gives for this request (Telnyx's
 * recording links expire after 10 minutes), so a link read from the API never expires.
 */
export class RecordingLinks {
  constructor(
    private readonly store: Pick<CommandStore, 'recordingById'>,
    private readonly providers: ProviderRegistry,
  ) {}

  /** null: no such saved recording for this tenant, or its provider no longer has the file. */
  async link(tenant: Viewer, recordingId: string): Promise<string | null> {
    if (!looksLikeRecordingId(recordingId)) return null;
    const found = await this.store.recordingById(tenant, recordingId);
    if (!found || found.recording.status !== RecordingStatus.SAVED) return null;
    // An access token sees the recordings of the calls its filter lets it see.
    if (tenant.scope && !callMatches(found.call, tenant.scope)) return null;
    const provider = this.providers.byName(found.call.provider);
    if (provider?.freshRecordingLink) return provider.freshRecordingLink(found.call, found.recording);
    return found.recording.url;
  }
}
