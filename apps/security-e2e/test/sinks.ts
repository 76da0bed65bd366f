// Listeners of the test on loopback that stand for host services and record what reaches them.
import { createSocket } from 'node:dgram';
import { createServer, type Socket } from 'node:net';

/** A TCP listener on 127.0.0.1 standing for a host service: it counts the connections it gets. */
export async function tcpSink(host = '127.0.0.1'): Promise<{ port: number; connections: () => number; close: () => Promise<void> }> {
  let count = 0;
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    count += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, host, resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    connections: () => count,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A UDP socket on 127.0.0.1 that records every datagram it gets (and never answers). */
export async function udpSink(): Promise<{ port: number; received: () => number; close: () => Promise<void> }> {
  const socket = createSocket('udp4');
  let count = 0;
  socket.on('message', () => (count += 1));
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return { port: socket.address().port, received: () => count, close: () => new Promise<void>((resolve) => socket.close(() => resolve())) };
}
