// Regenerates data-channel.json: OpenVPN CBC data packets (wire-protocol §6.3) built with the
// openssl command, the reference the engine's `cbc` unit tests open. Run: node generate.mjs
// Each packet is what a server sends a client: key2 bytes 128.. hold the server's cipher key,
// bytes 192.. its HMAC key.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';

const key2 = Buffer.from(Array.from({ length: 256 }, (_, i) => (i * 37 + 11) & 0xff));
const ciphers = { 'AES-128-CBC': 16, 'AES-256-CBC': 32 };
const digests = { SHA1: 'sha1', SHA256: 'sha256', SHA512: 'sha512' };
const macLen = { SHA1: 20, SHA256: 32, SHA512: 64 };

function openssl(args, input) {
  return execFileSync('openssl', args, { input });
}

const vectors = [];
let n = 0;
for (const [cipher, keyLen] of Object.entries(ciphers)) {
  for (const [auth, digest] of Object.entries(digests)) {
    for (const payloadLen of [1, 11, 12, 28, 60]) {
      n += 1;
      const packetId = 0x01020300 + n;
      const payload = Buffer.from(Array.from({ length: payloadLen }, (_, i) => (i * 5 + n) & 0xff));
      const iv = Buffer.from(Array.from({ length: 16 }, (_, i) => (i * 13 + n * 7) & 0xff));
      const plain = Buffer.concat([Buffer.alloc(4), payload]);
      plain.writeUInt32BE(packetId, 0);
      const key = key2.subarray(128, 128 + keyLen).toString('hex');
      const ct = openssl(['enc', `-${cipher.toLowerCase()}`, '-K', key, '-iv', iv.toString('hex')], plain);
      const hmacKey = key2.subarray(192, 192 + macLen[auth]).toString('hex');
      const mac = openssl(['dgst', `-${digest}`, '-mac', 'HMAC', '-macopt', `hexkey:${hmacKey}`, '-binary'], Buffer.concat([iv, ct]));
      // P_DATA_V2, key id 0, peer id 7; the header is not authenticated.
      const header = Buffer.from([0x48, 0, 0, 7]);
      vectors.push({
        cipher,
        auth,
        packetId,
        payload: payload.toString('hex'),
        packet: Buffer.concat([header, mac, iv, ct]).toString('hex'),
      });
    }
  }
}
const version = execFileSync('openssl', ['version']).toString().trim();
writeFileSync(
  new URL('./data-channel.json', import.meta.url),
  JSON.stringify({ generator: `generate.mjs with ${version}`, key2: key2.toString('hex'), headerLen: 4, vectors }, null, 2) + '\n',
);
