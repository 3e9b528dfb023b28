// A flood of connections that send nothing would hold every slot of the server (LIMITS.maxConnections)
// until the headers timeout closes them, 10 s later, and lock every real client out meanwhile. When the
// server is nearly full, connections that have not sent a whole request within `silentMs` are closed,
// oldest first, and so are keep-alive connections idle between requests: real clients get in within a
// second or two, and connections that are working are never touched.
import type { Server } from "node:http";
import type { Socket } from "node:net";

export interface SheddingOptions {
  maxConnections: number;
  /** How long a new connection may take to send its first request's headers while the server is nearly full. */
  silentMs: number;
  /** How often the server looks while it is nearly full. */
  checkEveryMs?: number;
}

/** Nearly full: nine tenths of the connections it may hold. */
const PRESSURE = 0.9;

export function shedSilentConnections(
  server: Server,
  { maxConnections, silentMs, checkEveryMs = 250 }: SheddingOptions,
) {
  // Insertion order is age order: the oldest silent connection comes first.
  const silentSince = new Map<Socket, number>();
  let open = 0;
  let timer: NodeJS.Timeout | undefined;

  const underPressure = () => open >= Math.floor(maxConnections * PRESSURE);
  const shed = () => {
    server.closeIdleConnections();
    const before = Date.now() - silentMs;
    for (const [socket, since] of silentSince) {
      if (since > before) break;
      silentSince.delete(socket);
      socket.destroy();
    }
  };
  const watch = () => {
    if (timer || !underPressure()) return;
    timer = setInterval(() => {
      if (underPressure()) return shed();
      clearInterval(timer);
      timer = undefined;
    }, checkEveryMs);
    timer.unref();
  };

  server.on("connection", (socket: Socket) => {
    open++;
    silentSince.set(socket, Date.now());
    socket.once("close", () => {
      open--;
      silentSince.delete(socket);
    });
    watch();
  });
  // A request's headers arrived: the connection is working.
  server.on("request", (req) => silentSince.delete(req.socket));
  // Refused for want of a slot: make room for the next try at once.
  server.on("drop", shed);
  server.once("close", () => clearInterval(timer));
}
