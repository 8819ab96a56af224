import { describe, expect, it } from 'vitest';
import { encodeFrame, FrameDecoder } from './codec.js';
import { MAX_FRAME_BYTES } from './messages.js';
import { ProtocolError } from './validate.js';

describe('frame codec', () => {
  it('round-trips messages split at every byte boundary', () => {
    const a = { type: 'status' };
    const b = { type: 'disconnect', session: 'sé' };
    const bytes = Buffer.concat([encodeFrame(a), encodeFrame(b)]);
    expect(bytes.readUInt32BE(0)).toBe(Buffer.byteLength(JSON.stringify(a)));
    for (let cut = 0; cut <= bytes.length; cut++) {
      const d = new FrameDecoder();
      const got = [...d.push(bytes.subarray(0, cut)), ...d.push(bytes.subarray(cut))];
      expect(got).toEqual([a, b]);
      expect(d.pendingBytes).toBe(0);
    }
  });

  it('decodes one byte at a time and reports a truncated tail', () => {
    const bytes = encodeFrame({ type: 'status' });
    const d = new FrameDecoder();
    const got: unknown[] = [];
    for (const byte of bytes.subarray(0, bytes.length - 1)) got.push(...d.push(Buffer.of(byte)));
    expect(got).toEqual([]);
    expect(d.pendingBytes).toBe(bytes.length - 1);
    expect(d.push(bytes.subarray(bytes.length - 1))).toEqual([{ type: 'status' }]);
  });

  it('carries a 128 KiB password', () => {
    const password = 'x'.repeat(128 * 1024);
    const m = { type: 'credentials', session: 's', username: 'u', password, response: null };
    expect(new FrameDecoder().push(encodeFrame(m))).toEqual([m]);
  });

  it('refuses an oversized frame from its header alone, and stays failed', () => {
    const header = Buffer.alloc(4);
    header.writeUInt32BE(MAX_FRAME_BYTES + 1, 0);
    const d = new FrameDecoder();
    expect(() => d.push(header)).toThrow(/exceeds/);
    expect(() => d.push(encodeFrame({ type: 'status' }))).toThrow(ProtocolError);
    expect(() => encodeFrame({ big: 'y'.repeat(MAX_FRAME_BYTES) })).toThrow(/exceeds/);
  });

  it('refuses frames that are not UTF-8 JSON', () => {
    const frame = (body: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, body.length]), body]);
    expect(() => new FrameDecoder().push(frame(Buffer.from('{not json')))).toThrow(/not valid JSON/);
    expect(() => new FrameDecoder().push(frame(Buffer.from([0x7b, 0xff, 0x7d])))).toThrow(/not valid UTF-8/);
  });
});
