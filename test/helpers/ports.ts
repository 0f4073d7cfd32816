// Ports for the servers tests start: never a fixed port, nor the OS's ephemeral ones (listen on port 0 hands out a
// port of Linux's outgoing range, which any client connection on the machine may take before the server binds it).
// They come reserved from src/db/lab/ports.ts: a lock file per port under /tmp/migrate-ports, so that two runs of the
// suite on one machine never pick the same port, each checked free; a start that still finds its port taken (by a
// process that takes no reservations) throws portInUse, and onFreePort(s) starts it again on other ports.
// In-process fixtures (node:http) listen on port 0 themselves: the port is theirs from the moment it is chosen.
import {onFreePort, onFreePorts, portInUse, reservePorts} from '../../src/db/lab/ports.js'

export {onFreePort, onFreePorts, portInUse}

/** A reserved port, free now: for a server started later, or one nothing will listen on. */
export function freePort(): Promise<number> {
  return reservePorts(1)
}

/** `count` consecutive reserved ports, free now; returns the first. */
export function freePortBlock(count: number): Promise<number> {
  return reservePorts(count)
}
