/**
 * Background processes of the local stack (DynamoDB Local, the runner): each one's pid is kept in a
 * file under `.dyna/`, so later commands can find it, stop it, or see that it is gone.
 */
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import { readFileSync, rmSync } from "node:fs"

/** Whether a process with that pid is alive. */
export const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

const readPid = (pidFile: string): number | undefined => {
  try {
    const pid = Number(readFileSync(pidFile, "utf8").trim())
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined
  } catch {
    return undefined
  }
}

/** The pid recorded in `pidFile` when that process is still alive. */
export const running = (pidFile: string): Effect.Effect<number | undefined> =>
  Effect.sync(() => {
    const pid = readPid(pidFile)
    return pid !== undefined && alive(pid) ? pid : undefined
  })

const exitGrace = Schedule.spaced("100 millis").pipe(Schedule.upTo({ duration: "10 seconds" }))

/** Stops the process recorded in `pidFile` (SIGTERM, then SIGKILL after 10 s): `"stopped"`, or `"not running"`. */
export const stop = (pidFile: string) =>
  Effect.gen(function*() {
    const pid = yield* running(pidFile)
    if (pid === undefined) {
      rmSync(pidFile, { force: true })
      return "not running" as const
    }
    process.kill(pid, "SIGTERM")
    const gone = yield* Effect.sync(() => !alive(pid)).pipe(Effect.repeat({ schedule: exitGrace, until: (g) => g }))
    if (!gone) process.kill(pid, "SIGKILL")
    rmSync(pidFile, { force: true })
    return "stopped" as const
  })
