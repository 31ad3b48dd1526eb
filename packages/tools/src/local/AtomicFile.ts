/**
 * Files other processes read while they are being rewritten (checkpoints, the runner's status, an
 * export): written to a temporary file beside them, then renamed over them, so a reader never sees half
 * of one. The temporary file has a random name and is created exclusively (`wx`): a file or a symlink
 * already at that name makes the write fail instead of being followed.
 */
import { randomBytes } from "node:crypto"
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeFileSync } from "node:fs"
import { basename, dirname, join } from "node:path"

export interface Options {
  /** The file's permission bits (default 0o666, less the umask); 0o600 keeps it to its owner. */
  readonly mode?: number | undefined
}

/** The temporary file's name beside `file`: unguessable, so no one can plant a symlink there first. */
export const temporaryName = (file: string): string =>
  join(dirname(file), `.${basename(file)}.${randomBytes(12).toString("hex")}.tmp`)

/** Replaces `file` with `text` in one step, with `mode` when given; throws as `writeFileSync` does. */
export const write = (file: string, text: string, options: Options = {}): void => {
  mkdirSync(dirname(file), { recursive: true })
  writeVia(temporaryName(file), file, text, options)
}

/**
 * {@link write} through a given temporary file, which must not exist yet: anything already at that name
 * (a file, a symlink) fails the write with `EEXIST` and is left as it is.
 */
export const writeVia = (temporary: string, file: string, text: string, options: Options = {}): void => {
  const fd = openSync(temporary, "wx", options.mode ?? 0o666)
  try {
    writeFileSync(fd, text)
    fsyncSync(fd)
  } catch (e) {
    closeSync(fd)
    rmSync(temporary, { force: true })
    throw e
  }
  closeSync(fd)
  try {
    renameSync(temporary, file)
  } catch (e) {
    rmSync(temporary, { force: true })
    throw e
  }
}
