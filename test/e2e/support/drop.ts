import type { Page } from 'playwright-core';

/**
 * Drops a file on the app window as a file manager would (dragover, then drop, with a real
 * DataTransfer). The page code is a string because this project type-checks without the DOM lib.
 */
export async function dropFile(page: Page, selector: string, fileName: string, content: string): Promise<void> {
  await page.evaluate(`(() => {
    const dt = new DataTransfer();
    dt.items.add(new File([${JSON.stringify(content)}], ${JSON.stringify(fileName)}));
    const target = document.querySelector(${JSON.stringify(selector)});
    target.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
    target.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  })()`);
}
