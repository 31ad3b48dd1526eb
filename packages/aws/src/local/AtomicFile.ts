/**
 * Files other processes read while they are being rewritten (checkpoints, the runner's status): written
 * to a temporary file beside them, then renamed over them, so a reader never sees half of one.
 */
import { mkdirSync, renameSync, writeFileSync } from "node:fs"
import { dirname } from "node:path"

/** Replaces `file` with `text` in one step; throws as `writeFileSync` does. */
export const write = (file: string, text: string): void => {
  const temporary = `${file}.${process.pid}.tmp`
  mkdirSync(dirname(file), { recursive: true })
  writeFileSync(temporary, text)
  renameSync(temporary, file)
}
