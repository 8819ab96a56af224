import { createStore } from './store';
import { reduce, initialState, MAX_LIVE_LOG_LINES, type AppState } from './reducer';
import { fakeBridge } from '../test/fake-bridge';
import { banner, passwordPrompt, snapshot } from '../test/fixtures';

describe('reducer', () => {
  const base: AppState = { ...initialState, snapshot: snapshot() };

  it('ignores connection events before the first snapshot', () => {
    expect(reduce(initialState, { event: 'connection', payload: { profileId: 'work', view: { phase: 'disconnecting' } } })).toBe(initialState);
  });

  it('adds a banner once, updates it in place, and removes it when cleared', () => {
    const once = reduce(base, { event: 'banner', payload: banner });
    const twice = reduce(once, { event: 'banner', payload: { ...banner, text: `${banner.text}\nSecond line.` } });
    expect(twice.snapshot!.banners).toHaveLength(1);
    expect(twice.snapshot!.banners[0]!.text).toMatch(/\nSecond line\.$/);
    expect(reduce(twice, { event: 'bannerCleared', payload: { id: 'b1' } }).snapshot!.banners).toEqual([]);
  });

  it('replaces a prompt with the same id and closes it', () => {
    let s = reduce(base, { event: 'prompt', payload: passwordPrompt });
    s = reduce(s, { event: 'prompt', payload: { ...passwordPrompt, retryReason: 'The server rejected your password.' } });
    expect(s.snapshot!.prompts).toHaveLength(1);
    expect(s.snapshot!.prompts[0]!.retryReason).toMatch(/rejected/);
    expect(reduce(s, { event: 'promptClosed', payload: { id: 'q1' } }).snapshot!.prompts).toEqual([]);
  });

  it('keeps live logs bounded', () => {
    let s = base;
    for (let i = 0; i < MAX_LIVE_LOG_LINES + 5; i++) {
      s = reduce(s, { event: 'log', payload: { profileId: 'work', sessionId: 's', at: '2026-11-22T10:00:00Z', level: 'info', text: `line ${i}` } });
    }
    expect(s.liveLogs.work).toHaveLength(MAX_LIVE_LOG_LINES);
    expect(s.liveLogs.work!.at(-1)!.text).toBe(`line ${MAX_LIVE_LOG_LINES + 4}`);
  });
});

describe('store', () => {
  it('applies events that arrive while the snapshot is on its way, after it', async () => {
    const bridge = fakeBridge();
    let release!: () => void;
    bridge.mocks.getSnapshot!.mockImplementation(() => new Promise((r) => (release = () => r(snapshot()))));
    const store = createStore(bridge);
    bridge.emit('connection', { profileId: 'work', view: { phase: 'connecting', step: 'resolving', server: null } });
    expect(store.getState().snapshot).toBeNull();
    release();
    await vi.waitFor(() => expect(store.getState().snapshot?.connections.work).toEqual({ phase: 'connecting', step: 'resolving', server: null }));
  });

  it('reports a snapshot that cannot be loaded', async () => {
    const bridge = fakeBridge();
    bridge.mocks.getSnapshot!.mockRejectedValue(new Error('Causeway could not reach its core.'));
    const store = createStore(bridge);
    await vi.waitFor(() => expect(store.getState().loadError).toBe('Causeway could not reach its core.'));
  });
});
