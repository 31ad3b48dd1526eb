/**
 * DYNA_HOME (`.dyna/` by default) as the project's own folder. Provision claims it when it makes it,
 * leaving a marker file in it; teardown and `local:stop` delete or stop only what lies inside a folder
 * carrying that marker, so `DYNA_HOME=$HOME pnpm teardown --delete-data` deletes none of the user's files.
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { closeSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs"
import { dirname, isAbsolute, join, relative, resolve } from "node:path"

/** The marker's file name, inside DYNA_HOME. */
export const MARKER = ".dyna-elite-home"

const SIGNATURE = "dyna-elite local stack"

const markerText = `${SIGNATURE}: this folder (DYNA_HOME) was made by \`pnpm provision\`. \`pnpm teardown\` and
\`pnpm local:stop\` act only on folders that hold this file; delete it and they will touch nothing here.
`

/**
 * What the local stack leaves in DYNA_HOME (see `LocalConfig`, `OwnedTables`, teardown's `backups/`): a
 * folder holding only these was made by an earlier version, before the marker, and may be claimed. A
 * new file or folder directly in DYNA_HOME belongs here too.
 */
export const KNOWN: ReadonlyArray<string> = [
  "data",
  "function",
  "runner",
  "runner.log",
  "dynamodb.pid",
  "owned-tables.json",
  "backups"
]

/** DYNA_HOME is not the project's, or a path handed over is not inside it: nothing was touched. */
export class HomeError extends Schema.TaggedError<HomeError>()("HomeError", {
  home: Schema.String,
  path: Schema.optional(Schema.String),
  reason: Schema.String
}) {
  override get message() {
    return this.path === undefined
      ? `DYNA_HOME ${this.home} ${this.reason}`
      : `not touching ${this.path}: ${this.reason} (DYNA_HOME ${this.home})`
  }
}

const lstat = (path: string) => lstatSync(path, { throwIfNoEntry: false })

const reason = (e: unknown) => (e instanceof Error ? e.message : String(e))

/** Whether `home` is a folder holding our marker: a regular file (not a link) that starts with our text. */
export const isOurs = (home: string): boolean => {
  const marker = lstat(join(home, MARKER))
  if (marker === undefined || !marker.isFile()) return false
  try {
    return readFileSync(join(home, MARKER), "utf8").startsWith(SIGNATURE)
  } catch {
    return false
  }
}

/**
 * `home`'s standing: `"absent"` (nothing there yet), `"ours"` (marked), `"unmarked"` (a folder holding
 * nothing but the local stack's own names, {@link KNOWN}: empty, or made before the marker), or
 * `"foreign"` (anything else, such as `$HOME`).
 */
export const check = (home: string): "absent" | "ours" | "unmarked" | "foreign" => {
  const stat = lstat(home)
  if (stat === undefined) return "absent"
  if (!stat.isDirectory()) return "foreign"
  if (isOurs(home)) return "ours"
  return readdirSync(home).every((name) => KNOWN.includes(name)) ? "unmarked" : "foreign"
}

/** Writes the marker into `home` (made if missing), created exclusively: an existing marker is kept. */
export const mark = (home: string): void => {
  mkdirSync(home, { recursive: true })
  if (isOurs(home)) return
  const fd = openSync(join(home, MARKER), "wx", 0o644)
  try {
    writeFileSync(fd, markerText)
  } finally {
    closeSync(fd)
  }
}

/**
 * Makes `home` the project's before provision puts anything in it: a new folder, an empty one, or one
 * an earlier version made (only {@link KNOWN} names in it) is marked; a marked one is kept. A folder
 * holding anything else (as `$HOME` does) is refused before anything is written there, so nothing of
 * the user's is ever mistaken for ours.
 */
export const claim = (home: string): Effect.Effect<"created" | "marked" | "ours", HomeError> =>
  Effect.suspend(() => {
    const absolute = resolve(home)
    const standing = check(absolute)
    if (standing === "foreign") {
      return Effect.fail(
        new HomeError({
          home: absolute,
          reason: `holds files that \`pnpm provision\` did not make (no ${MARKER} in it): set DYNA_HOME to a new or empty folder`
        })
      )
    }
    if (standing === "ours") return Effect.succeed(standing)
    return Effect.try({
      try: () => {
        mark(absolute)
        return standing === "absent" ? "created" as const : "marked" as const
      },
      catch: (e) => new HomeError({ home: absolute, reason: `cannot be marked as the local stack's (${reason(e)})` })
    })
  })

/**
 * Fails when `home` holds anything the local stack did not put there (see {@link check}): what
 * `local:stop` and teardown check before they stop a process named by a pid file in it. A folder made
 * before the marker, holding only the stack's own names, still passes, so its processes can be stopped.
 */
export const requireOurs = (home: string): Effect.Effect<"absent" | "ours" | "unmarked", HomeError> =>
  Effect.suspend(() => {
    const absolute = resolve(home)
    const standing = check(absolute)
    return standing === "foreign"
      ? Effect.fail(new HomeError({ home: absolute, reason: `was not made by \`pnpm provision\` (no ${MARKER} in it): nothing in it is stopped or deleted` }))
      : Effect.succeed(standing)
  })

const inside = (home: string, path: string): boolean => {
  const rel = relative(home, path)
  return rel !== "" && !rel.startsWith("..") && !isAbsolute(rel)
}

const attempt = <A>(home: string, what: string, f: () => A) =>
  Effect.try({ try: f, catch: (e) => new HomeError({ home, reason: `${what} (${reason(e)})` }) })

/**
 * Deletes those of `paths` that exist (folders with their content), only when each lies inside `home`,
 * `home` carries our marker, and no folder on the way is a link leading out of it. Any check failing
 * fails the whole call before anything is deleted. Returns the paths deleted; missing ones are skipped.
 */
export const removeOwned = (home: string, paths: ReadonlyArray<string>): Effect.Effect<ReadonlyArray<string>, HomeError> =>
  Effect.gen(function*() {
    const absolute = resolve(home)
    const targets = paths.map((p) => resolve(p))
    const outside = targets.find((p) => !inside(absolute, p))
    if (outside !== undefined) return yield* new HomeError({ home: absolute, path: outside, reason: "it is not inside DYNA_HOME" })
    const present = targets.filter((p) => lstat(p) !== undefined)
    if (present.length === 0) return []
    if (!isOurs(absolute)) {
      return yield* new HomeError({
        home: absolute,
        path: present[0],
        reason: `DYNA_HOME was not made by \`pnpm provision\` (no ${MARKER} in it)`
      })
    }
    const realHome = yield* attempt(absolute, "cannot be read", () => realpathSync(absolute))
    for (const path of present) {
      const parent = yield* attempt(absolute, "cannot be read", () => realpathSync(dirname(path)))
      if (parent !== realHome && !inside(realHome, parent)) {
        return yield* new HomeError({ home: absolute, path, reason: `a link on the way leads out of DYNA_HOME, to ${parent}` })
      }
    }
    yield* attempt(absolute, "cannot delete in it", () => {
      for (const path of present) rmSync(path, { recursive: true, force: true })
    })
    return present
  })
