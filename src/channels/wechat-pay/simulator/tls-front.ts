import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { Server as HttpServer } from 'node:http';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';

/**
 * HTTP and HTTPS on the one sandbox port. api.mch.weixin.qq.com is HTTPS-only and authenticates
 * /secapi calls by the merchant's client certificate (mutual TLS, protocols.md §B.1), which needs
 * TLS; the v3 clients and the sandbox pages keep plain HTTP on the same port. The first byte of a
 * connection tells them apart: 0x16 opens a TLS handshake. The certificate a client presented is
 * judged per request (routes-v2.ts), so a connection without one still reaches the ordinary paths.
 */

export interface TlsFront {
  /** Replaces the trusted client-certificate issuers (after a platform certificate rotation). */
  setClientCas(cas: string[]): void;
  close(): void;
}

export function addTlsFront(plain: HttpServer, server: { key: string; cert: string }, clientCas: string[]): TlsFront {
  const options = { key: server.key, cert: server.cert, requestCert: true, rejectUnauthorized: false, ca: clientCas };
  const secure: HttpsServer = createHttpsServer(options, (req, res) => plain.emit('request', req, res));
  // Every accepted socket, whichever protocol it turns out to speak: a connection that has not sent
  // its first byte yet is known to neither server, so neither close() would end it.
  const sockets = new Set<Socket>();
  const plainListeners = plain.listeners('connection') as Array<(socket: Socket) => void>;
  plain.removeAllListeners('connection');
  plain.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.once('data', (chunk: Buffer) => {
      socket.pause();
      socket.unshift(chunk);
      if (chunk[0] === 0x16) {
        secure.emit('connection', socket);
      } else {
        for (const listener of plainListeners) listener.call(plain, socket);
      }
      process.nextTick(() => socket.resume());
    });
  });
  return {
    setClientCas(cas) {
      secure.setSecureContext({ key: server.key, cert: server.cert, ca: cas });
    },
    close() {
      // The simulator is going away: the plain server counts these raw sockets and its close() would
      // wait out their keep-alive (or forever, for one that never spoke).
      for (const s of sockets) s.destroy();
      secure.close();
    },
  };
}

/** The verified client certificate of a request, or undefined (plain HTTP, none presented, or not issued by a trusted CA). */
export function clientCertificate(socket: Socket): { serial: string; subjectCn: string } | undefined {
  const tls = socket as TLSSocket;
  if (!tls.encrypted || !tls.authorized) return undefined;
  const peer = tls.getPeerCertificate();
  if (!peer || !peer.serialNumber) return undefined;
  const cn = peer.subject?.CN;
  return { serial: peer.serialNumber.toUpperCase(), subjectCn: Array.isArray(cn) ? (cn[0] ?? '') : (cn ?? '') };
}
