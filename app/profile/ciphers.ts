// The data-channel ciphers Causeway's engine offers, in its preference order.
import type { DataCipher } from './model.js';

export const SUPPORTED_CIPHERS: readonly DataCipher[] = ['AES-256-GCM', 'AES-128-GCM', 'CHACHA20-POLY1305'];
