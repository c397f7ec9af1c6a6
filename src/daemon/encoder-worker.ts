// The frame encoder's thread (frame-encoder.ts starts it): it owns the FramePipeline (the
// agent's picture as the encoder believes it, the compression history) and answers one message
// at a time, in order, so a reset posted after an encode applies after it.
import { parentPort, workerData } from 'node:worker_threads';
import { RsoError } from '../errors.js';
import { FramePipeline, type MaskedGrab } from './frame-pipeline.js';
import type { EncoderReply, EncoderRequest } from './frame-encoder.js';
import type { Size } from './frames.js';

// Loaded as anything but a worker (a test runner listing files), it does nothing.
const port = parentPort;
if (port) {
  const pipeline = new FramePipeline(workerData as Size);
  port.on('message', (m: EncoderRequest) => {
    if (m.type === 'reset') {
      pipeline.resetAgent();
      return;
    }
    let reply: EncoderReply;
    const transfer: ArrayBuffer[] = [];
    try {
      for (const g of m.grabs) pipeline.ingest(g as MaskedGrab);
      const batch = pipeline.encode(m.out, m.changed, m.seq);
      if (batch) {
        for (const u of batch.updates) transfer.push(u.buffer as ArrayBuffer);
        const kinds: Record<string, number> = {};
        for (const t of batch.tiles) kinds[t.encoding] = (kinds[t.encoding] ?? 0) + 1;
        reply = { id: m.id, batch: { updates: batch.updates, lastSeq: batch.lastSeq, tiles: batch.tiles.length, kinds } };
      } else {
        reply = { id: m.id, batch: null };
      }
    } catch (err) {
      const e = err instanceof RsoError ? err : new RsoError('RSO_ERR_INTERNAL', undefined, err instanceof Error ? err.message : String(err));
      reply = { id: m.id, error: { code: e.code, detail: e.detail ?? e.message } };
    }
    port.postMessage(reply, transfer);
  });
}
