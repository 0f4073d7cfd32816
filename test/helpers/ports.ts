// Ports for the servers tests start: an ephemeral port the OS hands out as free (listen on port 0), never a fixed
// one or a fixed range (fixed ports made the suite flaky when other work on the machine held them). The port is free
// when handed out; a test then checks that the server it started is the one that listens there (it is still running
// once the port answers), and starts it again on another port when not.
import net from 'node:net'

/** A TCP port free on `host` right now, chosen by the OS. */
export async function ephemeralPort(host = '127.0.0.1'): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const s = net.createServer()
    s.once('error', reject)
    s.listen(0, host, () => {
      const {port} = s.address() as net.AddressInfo
      s.close(() => resolve(port))
    })
  })
}

/**
 * Starts a server with `start(port)` on ephemeral ports until one is its own: `start` resolves once the port answers
 * and returns whether the server it started is still running (false: the port was taken in between).
 */
export async function onEphemeralPort<T extends {running: () => boolean}>(
  start: (port: number) => Promise<T>,
  tries = 5,
): Promise<T & {port: number}> {
  for (let k = 1; ; k++) {
    const port = await ephemeralPort()
    const started = await start(port)
    if (started.running()) return {...started, port}
    if (k >= tries) throw new Error(`no server of ours listened on ${tries} ephemeral ports (last ${port})`)
  }
}
