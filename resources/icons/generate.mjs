// Draws the tray and app icons as PNGs (run: node resources/icons/generate.mjs). Each tray state
// has its own shape as well as colour, so it reads on any panel and for colour-blind users:
//   disconnected: empty ring · connecting: half-filled ring · connected: filled disc · error: ring with a bar
import { writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';

const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}
function png(size, rgba) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // RGBA
  const rows = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y++) rgba.copy(rows, y * (size * 4 + 1) + 1, y * size * 4, (y + 1) * size * 4);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(rows)), chunk('IEND', Buffer.alloc(0))]);
}

/** Renders `inside(x, y)` (unit square coordinates) in one colour, 4×4 supersampled. */
function draw(size, color, inside) {
  const out = Buffer.alloc(size * size * 4);
  const ss = 4;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let hits = 0;
      for (let sy = 0; sy < ss; sy++) for (let sx = 0; sx < ss; sx++) if (inside((x + (sx + 0.5) / ss) / size, (y + (sy + 0.5) / ss) / size)) hits++;
      const i = (y * size + x) * 4;
      out[i] = color[0];
      out[i + 1] = color[1];
      out[i + 2] = color[2];
      out[i + 3] = Math.round((255 * hits) / (ss * ss));
    }
  }
  return out;
}

const r = (x, y) => Math.hypot(x - 0.5, y - 0.5);
const ring = (x, y) => r(x, y) <= 0.46 && r(x, y) >= 0.33;
const shapes = {
  disconnected: { color: [120, 128, 140], inside: ring },
  connecting: { color: [31, 86, 195], inside: (x, y) => ring(x, y) || (r(x, y) < 0.33 && x < 0.5) },
  connected: { color: [23, 112, 63], inside: (x, y) => r(x, y) <= 0.46 },
  error: { color: [168, 35, 27], inside: (x, y) => ring(x, y) || (Math.abs(y - 0.5) < 0.07 && Math.abs(x - 0.5) < 0.26) },
};

const dir = fileURLToPath(new URL('.', import.meta.url));
for (const [state, { color, inside }] of Object.entries(shapes)) {
  writeFileSync(`${dir}tray-${state}.png`, png(32, draw(32, color, inside)));
  writeFileSync(`${dir}tray-${state}@2x.png`, png(64, draw(64, color, inside)));
}
// App icon: a causeway — a road crossing water — reduced to a disc with a bridge band.
const appIcon = draw(256, [31, 86, 195], (x, y) => r(x, y) <= 0.47 && !(Math.abs(y - 0.56) < 0.06 && r(x, y) < 0.4) && !(y > 0.62 && Math.abs(x - 0.5) > 0.1 && Math.abs(x - 0.5) < 0.2 && r(x, y) < 0.4));
writeFileSync(`${dir}app.png`, png(256, appIcon));
