import { act, render } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { App } from '../App';
import { createStore } from '../state/store';
import type { AppSnapshot } from '../../../app/ipc/types';
import { fakeBridge } from './fake-bridge';

/** Renders the whole app over a fake bridge and waits for the first snapshot. */
export async function renderApp(initial?: AppSnapshot) {
  const bridge = fakeBridge(initial);
  const store = createStore(bridge);
  const user = userEvent.setup();
  const utils = render(<App bridge={bridge} store={store} />);
  await act(async () => {});
  return { bridge, store, user, ...utils };
}
