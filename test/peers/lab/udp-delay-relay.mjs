// A UDP relay that holds every datagram for a fixed time in each direction: the lab's delay,
// since this kernel has no netem. One upstream socket per client address, so the server sees
// each client (and a client that moved) as its own peer, as it would behind a real path.
//
//   node udp-delay-relay.mjs <listen host> <listen port> <target host> <target port> <delay ms>
//
// Prints "relaying <port>" once it listens. Runs until killed.
import { createSocket } from 'node:dgram';

const [listenHost, listenPort, targetHost, targetPort, delayMs] = process.argv.slice(2);
const delay = Number(delayMs);
const front = createSocket('udp4');
/** client "host:port" -> the socket that speaks for it to the target */
const upstreams = new Map();

function upstreamFor(rinfo) {
  const key = `${rinfo.address}:${rinfo.port}`;
  let up = upstreams.get(key);
  if (!up) {
    up = createSocket('udp4');
    up.on('message', (msg) => setTimeout(() => front.send(msg, rinfo.port, rinfo.address), delay));
    up.on('error', () => undefined);
    up.connect(Number(targetPort), targetHost);
    upstreams.set(key, up);
  }
  return up;
}

front.on('message', (msg, rinfo) => {
  const up = upstreamFor(rinfo);
  setTimeout(() => {
    // A datagram that arrives before the upstream socket has connected waits for it.
    try {
      up.send(msg);
    } catch {
      up.once('connect', () => up.send(msg));
    }
  }, delay);
});
// A send to a client that went away fails; the relay, like a path, just drops it.
front.on('error', () => undefined);
front.bind(Number(listenPort), listenHost, () => console.log(`relaying ${front.address().port}`));
