/**
 * The CPU time a piece of work took, in this process and in the bench's DynamoDB Local. On the two
 * cores CI has, both compete for the same CPUs: a run whose requests cost DynamoDB Local more is slower
 * for that alone, and these figures show it. DynamoDB Local's comes from Linux's `/proc` (elsewhere it
 * is `undefined`), in its 10 ms clock ticks.
 */
import { readFileSync } from "node:fs"

export interface Spent {
  /** Wall-clock time. */
  readonly millis: number
  /** This process's CPU time, user and system. */
  readonly nodeMillis: number
  /** DynamoDB Local's CPU time, user and system; `undefined` without `/proc`. */
  readonly localMillis: number | undefined
}

/** Linux's USER_HZ: what `/proc/<pid>/stat` counts CPU time in. */
const TICKS_PER_SECOND = 100

/** A process's CPU time so far, from `/proc/<pid>/stat` (utime and stime, the 14th and 15th fields). */
const processMillis = (pid: number | undefined): number | undefined => {
  if (pid === undefined) return undefined
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
    // The command name is parenthesised and may hold spaces: count fields after its closing ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
    const ticks = Number(fields[11]) + Number(fields[12])
    return Number.isFinite(ticks) ? (ticks * 1000) / TICKS_PER_SECOND : undefined
  } catch {
    return undefined
  }
}

/** Runs `work`, and says what it cost: wall time, this process's CPU and DynamoDB Local's (`localPid`). */
export const measure = async <A>(localPid: number | undefined, work: () => Promise<A>): Promise<{ readonly value: A; readonly spent: Spent }> => {
  const local = processMillis(localPid)
  const node = process.cpuUsage()
  const started = performance.now()
  const value = await work()
  const millis = performance.now() - started
  const { user, system } = process.cpuUsage(node)
  const localAfter = processMillis(localPid)
  return {
    value,
    spent: { millis, nodeMillis: (user + system) / 1000, localMillis: local === undefined || localAfter === undefined ? undefined : localAfter - local }
  }
}

/** Node's and DynamoDB Local's CPU together; `undefined` without DynamoDB Local's. */
export const total = (spent: Spent): number | undefined => (spent.localMillis === undefined ? undefined : spent.nodeMillis + spent.localMillis)

/** `Node 140 ms + DynamoDB Local 470 ms of CPU`, for a row's note. */
export const describe = (spent: Spent): string =>
  `Node ${spent.nodeMillis.toFixed(0)} ms` + (spent.localMillis === undefined ? "" : ` + DynamoDB Local ${spent.localMillis.toFixed(0)} ms`) + " of CPU"
