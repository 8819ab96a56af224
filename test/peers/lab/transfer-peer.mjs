// Checksum-verified bulk transfer through the tunnel, both directions in one connection.
// Plain JavaScript so it runs with bare `node` inside a network namespace.
//
//   node transfer-peer.mjs serve <port>                       (server namespace; runs until killed)
//   node transfer-peer.mjs fetch <host> <port> <up> <down>    (client namespace; prints a JSON result)
//
// Client -> server: u64 upload length, u64 download length, then the upload bytes.
// Server -> client: sha256 of the upload as received, then the download bytes, then the
// sha256 of the download as sent. Each side compares digests of what it really received.
import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';

const CHUNK = 64 * 1024;

function sendRandom(socket, total, hash, done) {
  let left = total;
  const pump = () => {
    while (left > 0) {
      const chunk = randomBytes(Math.min(CHUNK, left));
      left -= chunk.length;
      hash.update(chunk);
      if (!socket.write(chunk)) return socket.once('drain', pump);
    }
    done();
  };
  pump();
}

function serve(port) {
  net
    .createServer((socket) => {
      let header = Buffer.alloc(0);
      let upLeft = -1;
      let down = 0;
      const upHash = createHash('sha256');
      socket.on('error', () => socket.destroy());
      socket.on('data', (data) => {
        if (upLeft < 0) {
          header = Buffer.concat([header, data]);
          if (header.length < 16) return;
          upLeft = Number(header.readBigUInt64BE(0));
          down = Number(header.readBigUInt64BE(8));
          data = header.subarray(16);
        }
        upHash.update(data);
        upLeft -= data.length;
        if (upLeft === 0) {
          socket.write(upHash.digest());
          const downHash = createHash('sha256');
          sendRandom(socket, down, downHash, () => socket.end(downHash.digest()));
        }
      });
    })
    // '::' also accepts IPv4 (dual stack), so one peer serves both tunnel address families.
    .listen(port, '::', () => console.log(`listening ${port}`));
}

function fetch(host, port, up, down) {
  const started = Date.now();
  const socket = net.connect({ host, port });
  const sentHash = createHash('sha256');
  const received = [];
  let receivedBytes = 0;
  socket.setTimeout(60_000, () => socket.destroy(new Error('transfer stalled for 60 s')));
  socket.on('connect', () => {
    const header = Buffer.alloc(16);
    header.writeBigUInt64BE(BigInt(up), 0);
    header.writeBigUInt64BE(BigInt(down), 8);
    socket.write(header);
    sendRandom(socket, up, sentHash, () => {});
  });
  socket.on('data', (d) => {
    received.push(d);
    receivedBytes += d.length;
  });
  socket.on('error', (e) => {
    console.log(JSON.stringify({ ok: false, error: e.message, receivedBytes }));
    process.exit(1);
  });
  socket.on('end', () => {
    const all = Buffer.concat(received);
    const upDigestOk = all.length >= 64 && all.subarray(0, 32).equals(sentHash.digest());
    const body = all.subarray(32, all.length - 32);
    const downDigestOk = body.length === down && createHash('sha256').update(body).digest().equals(all.subarray(all.length - 32));
    const ok = upDigestOk && downDigestOk;
    console.log(JSON.stringify({ ok, upDigestOk, downDigestOk, up, down: body.length, ms: Date.now() - started }));
    process.exit(ok ? 0 : 1);
  });
}

const [mode, ...args] = process.argv.slice(2);
if (mode === 'serve') serve(Number(args[0]));
else if (mode === 'fetch') fetch(args[0], Number(args[1]), Number(args[2]), Number(args[3]));
else {
  console.error('usage: transfer-peer.mjs serve <port> | fetch <host> <port> <up> <down>');
  process.exit(2);
}
