// Whether a string is still anywhere in the page's JavaScript heap: a full heap snapshot over the
// DevTools protocol, taken after a garbage collection, searched as text. Proves that a secret the
// page held (a typed passphrase) is gone, not just out of the DOM.
import type { Page } from 'playwright-core';

export async function heapHolds(page: Page, needle: string): Promise<boolean> {
  const cdp = await page.context().newCDPSession(page);
  try {
    const chunks: string[] = [];
    cdp.on('HeapProfiler.addHeapSnapshotChunk', (e) => chunks.push(e.chunk));
    await cdp.send('HeapProfiler.enable');
    await cdp.send('HeapProfiler.collectGarbage');
    await cdp.send('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
    const snapshot = chunks.join('');
    if (!snapshot.includes('"strings"')) throw new Error('the heap snapshot has no strings table');
    return snapshot.includes(needle);
  } finally {
    await cdp.detach();
  }
}
