// Framing for the helper protocol: u32 big-endian byte length, then that many bytes of UTF-8
// JSON (one object). A frame longer than MAX_FRAME_BYTES, or one that is not JSON, is a
// protocol error: the channel cannot be trusted afterwards and must be closed.
import { MAX_FRAME_BYTES } from './messages.js';
import { ProtocolError } from './validate.js';

const HEADER_BYTES = 4;

/** Encodes one message as a frame. Throws when the message is too large to send. */
export function encodeFrame(message: object): Buffer {
  const body = Buffer.from(JSON.stringify(message), 'utf8');
  if (body.length > MAX_FRAME_BYTES) {
    throw new ProtocolError(`frame of ${body.length} bytes exceeds the ${MAX_FRAME_BYTES}-byte limit`);
  }
  const frame = Buffer.allocUnsafe(HEADER_BYTES + body.length);
  frame.writeUInt32BE(body.length, 0);
  body.copy(frame, HEADER_BYTES);
  return frame;
}

/**
 * Incremental decoder: feed it chunks as they arrive from a stream; it returns each complete
 * frame's parsed JSON (not yet validated — see validate.ts). Once it throws it stays failed.
 */
export class FrameDecoder {
  private buffered: Buffer[] = [];
  private bufferedBytes = 0;
  private failed: ProtocolError | null = null;

  push(chunk: Buffer): unknown[] {
    if (this.failed) throw this.failed;
    this.buffered.push(chunk);
    this.bufferedBytes += chunk.length;
    const out: unknown[] = [];
    try {
      for (;;) {
        if (this.bufferedBytes < HEADER_BYTES) break;
        const data = this.take();
        const length = data.readUInt32BE(0);
        if (length > MAX_FRAME_BYTES) {
          throw new ProtocolError(`frame of ${length} bytes exceeds the ${MAX_FRAME_BYTES}-byte limit`);
        }
        if (data.length < HEADER_BYTES + length) break;
        const body = data.subarray(HEADER_BYTES, HEADER_BYTES + length);
        this.buffered = data.length > HEADER_BYTES + length ? [data.subarray(HEADER_BYTES + length)] : [];
        this.bufferedBytes = data.length - HEADER_BYTES - length;
        out.push(parseJson(body));
      }
    } catch (e) {
      this.failed = e instanceof ProtocolError ? e : new ProtocolError(String(e));
      throw this.failed;
    }
    return out;
  }

  /** Bytes of an incomplete frame still waiting for more data (non-zero at EOF = truncated). */
  get pendingBytes(): number {
    return this.bufferedBytes;
  }

  private take(): Buffer {
    if (this.buffered.length > 1) this.buffered = [Buffer.concat(this.buffered)];
    return this.buffered[0]!;
  }
}

function parseJson(body: Buffer): unknown {
  const text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
  let json: string;
  try {
    json = text.decode(body);
  } catch {
    throw new ProtocolError('frame is not valid UTF-8');
  }
  try {
    return JSON.parse(json);
  } catch {
    throw new ProtocolError('frame is not valid JSON');
  }
}
