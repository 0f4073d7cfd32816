// Atomic file writes: a reader sees the whole old file or the whole new one, never half (temp in the same
// directory, fsync, rename, fsync the directory), as Terraform's replacefile.AtomicWriteFile.
import {randomBytes} from 'node:crypto'
import {closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync} from 'node:fs'
import path from 'node:path'

/** The text of a file, or a function that hands it over in pieces (written as they come, never held whole). */
export type FileContent = string | Uint8Array | ((write: (chunk: string) => void) => void)

export function writeFileAtomic(file: string, content: FileContent): void {
  const dir = path.dirname(file)
  mkdirSync(dir, {recursive: true})
  // Unique per call (pid, time and a random part), and created exclusively: two writes never share a temp file.
  const tmp = path.join(
    dir,
    `.${path.basename(file)}.${process.pid}.${Date.now()}.${randomBytes(4).toString('hex')}.tmp`,
  )
  let fd = -1
  try {
    fd = openSync(tmp, 'wx', 0o644)
    const put = (buf: Uint8Array) => {
      let off = 0
      while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off)
    }
    if (typeof content === 'function') {
      const r: unknown = content((chunk) => put(Buffer.from(chunk, 'utf8')))
      if (r !== undefined && typeof (r as {then?: unknown}).then === 'function')
        throw new Error('writeFileAtomic: the writer must be synchronous')
    } else put(typeof content === 'string' ? Buffer.from(content, 'utf8') : content)
    fsyncSync(fd)
    closeSync(fd)
    fd = -1
    renameSync(tmp, file)
    fsyncDir(dir)
  } catch (error) {
    try {
      if (fd >= 0) closeSync(fd)
    } catch {
      // The original error is the one to report.
    }
    rmSync(tmp, {force: true})
    throw error
  }
}

export function fsyncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r')
    try {
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
  } catch {
    // Some filesystems do not allow fsync on a directory; the rename is still atomic.
  }
}
