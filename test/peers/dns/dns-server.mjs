// A tiny authoritative DNS server for the tests: answers A queries for a fixed set of names
// and NXDOMAIN for everything else, over UDP. Every query is printed as a line
// `query <name> <type>` so tests can tell which server a resolver asked.
//
//   node dns-server.mjs <address> <port> <name>=<ipv4> [<name>=<ipv4> ...]
import { createSocket } from 'node:dgram';

const [address, portText, ...records] = process.argv.slice(2);
if (!address || !portText) {
  console.error('usage: dns-server.mjs <address> <port> <name>=<ipv4>...');
  process.exit(2);
}
const zone = new Map(
  records.map((r) => {
    const [name, ip] = r.split('=');
    return [name.toLowerCase().replace(/\.$/, ''), ip.split('.').map(Number)];
  }),
);

const TYPE_A = 1;
const RCODE_NXDOMAIN = 3;
const RCODE_FORMERR = 1;

/** Reads the question's name; returns it and the offset after QTYPE/QCLASS, or null. */
function readQuestion(msg) {
  let offset = 12;
  const labels = [];
  while (offset < msg.length) {
    const len = msg[offset];
    if (len === 0) break;
    if (len > 63 || offset + 1 + len > msg.length) return null;
    labels.push(msg.subarray(offset + 1, offset + 1 + len).toString('latin1'));
    offset += 1 + len;
  }
  if (offset + 5 > msg.length) return null;
  const type = msg.readUInt16BE(offset + 1);
  return { name: labels.join('.').toLowerCase(), type, end: offset + 5 };
}

function answer(query) {
  if (query.length < 12 || query.readUInt16BE(4) !== 1) return null;
  const q = readQuestion(query);
  const header = Buffer.alloc(12);
  query.copy(header, 0, 0, 2); // id
  const rd = query[2] & 0x01;
  if (!q) {
    header.writeUInt16BE(0x8000 | (rd << 8) | RCODE_FORMERR, 2);
    return header;
  }
  console.log(`query ${q.name} ${q.type}`);
  const ip = zone.get(q.name);
  const answers = [];
  if (ip && q.type === TYPE_A) {
    const rr = Buffer.alloc(16);
    rr.writeUInt16BE(0xc00c, 0); // pointer to the question's name
    rr.writeUInt16BE(TYPE_A, 2);
    rr.writeUInt16BE(1, 4); // IN
    rr.writeUInt32BE(5, 6); // short TTL: tests check that answers go away
    rr.writeUInt16BE(4, 10);
    Buffer.from(ip).copy(rr, 12);
    answers.push(rr);
  }
  // Authoritative answer; known names without an A record get NODATA, unknown ones NXDOMAIN.
  header.writeUInt16BE(0x8400 | (rd << 8) | (ip ? 0 : RCODE_NXDOMAIN), 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(answers.length, 6);
  return Buffer.concat([header, query.subarray(12, q.end), ...answers]);
}

const socket = createSocket(address.includes(':') ? 'udp6' : 'udp4');
socket.on('message', (msg, peer) => {
  const reply = answer(msg);
  if (reply) socket.send(reply, peer.port, peer.address);
});
socket.on('error', (e) => {
  console.error(`dns server: ${e.message}`);
  process.exit(1);
});
socket.bind(Number(portText), address, () => console.log(`listening ${address}:${portText}`));
process.on('SIGTERM', () => socket.close(() => process.exit(0)));
