import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { getBridge } from './bridge';
import { createStore } from './state/store';
import './styles.css';

const bridge = getBridge();
const store = createStore(bridge);
createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App bridge={bridge} store={store} />
  </StrictMode>,
);
