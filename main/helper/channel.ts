// A helper-protocol channel over any byte stream pair (a child's stdio or a Unix socket):
// frames and validates outgoing messages, decodes and validates incoming ones, and turns every
// way the channel can break (EOF, EPIPE, a bad frame, an invalid message) into one close event
// with a reason. After close, nothing more is delivered and sends are refused.
import type { Readable, Writable } from 'node:stream';
import type { ClientMessage, HelperMessage } from '../../app/helper-protocol/messages.js';
import { encodeFrame, FrameDecoder } from '../../app/helper-protocol/codec.js';
import { parseClientMessage, parseHelperMessage } from '../../app/helper-protocol/validate.js';

export type MessageListener = (message: HelperMessage) => void;
export type CloseListener = (reason: string) => void;

export class HelperChannel {
  private readonly decoder = new FrameDecoder();
  private readonly messageListeners = new Set<MessageListener>();
  private readonly closeListeners = new Set<CloseListener>();
  private closedReason: string | null = null;

  /**
   * `closeOnEnd: false` lets the owner of a child process close the channel itself when the
   * process exits, so the reason names the exit status instead of just "closed".
   */
  constructor(
    private readonly input: Readable,
    private readonly output: Writable,
    options: { closeOnEnd?: boolean } = {},
  ) {
    input.on('data', (chunk: Buffer) => this.receive(chunk));
    if (options.closeOnEnd ?? true) input.on('end', () => this.close(this.endReason('the helper closed the channel')));
    input.on('error', (e) => this.close(`reading from the helper failed: ${e.message}`));
    output.on('error', (e: NodeJS.ErrnoException) =>
      this.close(e.code === 'EPIPE' ? 'the helper is gone (broken pipe)' : `writing to the helper failed: ${e.message}`),
    );
  }

  /** `base`, noting a frame cut short when the stream ended in the middle of one. */
  endReason(base: string): string {
    return this.decoder.pendingBytes ? `${base} in the middle of a message` : base;
  }

  get closed(): string | null {
    return this.closedReason;
  }

  onMessage(listener: MessageListener): () => void {
    this.messageListeners.add(listener);
    return () => this.messageListeners.delete(listener);
  }

  onClose(listener: CloseListener): () => void {
    if (this.closedReason !== null) {
      listener(this.closedReason);
      return () => {};
    }
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  /** Validates and sends; throws if the message is malformed or the channel is closed. */
  send(message: ClientMessage): void {
    if (this.closedReason !== null) throw new Error(`cannot talk to the helper: ${this.closedReason}`);
    parseClientMessage(message);
    this.output.write(encodeFrame(message));
  }

  /** Closes the channel (idempotent); listeners hear `reason` once. */
  close(reason: string): void {
    if (this.closedReason !== null) return;
    this.closedReason = reason;
    this.input.removeAllListeners('data');
    // Keep error handlers attached: late EPIPEs must not become uncaught exceptions.
    this.input.on('error', () => {});
    this.output.on('error', () => {});
    for (const l of this.closeListeners) l(reason);
    this.closeListeners.clear();
    this.messageListeners.clear();
  }

  private receive(chunk: Buffer): void {
    if (this.closedReason !== null) return;
    let frames: unknown[];
    try {
      frames = this.decoder.push(chunk);
    } catch (e) {
      this.close(`the helper sent a bad frame: ${(e as Error).message}`);
      return;
    }
    for (const frame of frames) {
      let message: HelperMessage;
      try {
        message = parseHelperMessage(frame);
      } catch (e) {
        this.close(`the helper sent an invalid message: ${(e as Error).message}`);
        return;
      }
      for (const l of this.messageListeners) {
        l(message);
        if (this.closedReason !== null) return;
      }
    }
  }
}
