/**
 * The local runner as a background process: provisioning writes the mapping it serves, starts it
 * detached with its output in `.dyna/runner.log`, and waits until it reports itself running.
 */
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import { spawn } from "node:child_process"
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from "node:fs"
import { dirname } from "node:path"
import * as Deployment from "../Deployment.js"
import * as Background from "./Background.js"
import { LocalStackError } from "./DynamoDbLocal.js"

/** What the runner serves: the local counterpart of an event source mapping plus the function's settings. */
export const Mapping = Schema.Struct({
  streamArn: Schema.String,
  settings: Deployment.MappingSettings,
  /** The published function (`index.mjs`) and its SHA-256, so a new publish restarts the runner. */
  functionFile: Schema.String,
  functionSha256: Schema.String,
  /** The function's environment (its table names), as Lambda would set it. */
  environment: Schema.Record(Schema.String, Schema.String),
  checkpointFile: Schema.String,
  onFailureFile: Schema.String,
  statusFile: Schema.String
})
export type Mapping = typeof Mapping.Type

/** What the running runner reports about itself, rewritten as it works. */
export const Status = Schema.Struct({
  pid: Schema.Int,
  startedAt: Schema.String,
  updatedAt: Schema.String,
  streamArn: Schema.String,
  /** Batches handed to the function, records delivered, and those given up on. */
  batches: Schema.Int,
  records: Schema.Int,
  onFailure: Schema.Int
})
export type Status = typeof Status.Type

const decodeJson = <A>(schema: Schema.Codec<A, unknown>, file: string): A | undefined => {
  try {
    return Schema.decodeUnknownSync(Schema.fromJsonString(schema))(readFileSync(file, "utf8"))
  } catch {
    return undefined
  }
}

/** The mapping in `file`, or `undefined` when there is none (or it cannot be read). */
export const readMapping = (file: string): Mapping | undefined => decodeJson(Mapping, file)

/** The runner's last report, or `undefined` when it has not written one. */
export const readStatus = (file: string): Status | undefined => decodeJson(Status, file)

export interface Files {
  readonly script: string
  readonly mappingFile: string
  readonly pidFile: string
  readonly logFile: string
}

const tail = (file: string, lines: number) => {
  try {
    return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n")
  } catch {
    return ""
  }
}

const ready = Schedule.spaced("100 millis").pipe(Schedule.upTo({ duration: "30 seconds" }))

/**
 * Writes the mapping, starts `node runner.mjs <mapping>` detached and waits until the runner has
 * reported its own pid in the status file. A runner that dies on the way fails with its last log lines.
 */
export const start = (files: Files, mapping: Mapping, env: Readonly<Record<string, string | undefined>>) =>
  Effect.gen(function*() {
    for (const file of [files.mappingFile, files.pidFile, files.logFile, mapping.statusFile]) {
      mkdirSync(dirname(file), { recursive: true })
    }
    writeFileSync(files.mappingFile, `${JSON.stringify(mapping, null, 2)}\n`)
    const log = openSync(files.logFile, "a")
    const child = spawn(process.execPath, [files.script, files.mappingFile], {
      detached: true,
      stdio: ["ignore", log, log],
      env: { ...env, ...mapping.environment }
    })
    closeSync(log)
    const pid = child.pid
    if (pid === undefined) return yield* new LocalStackError({ message: `cannot start the runner (${files.script})` })
    child.unref()
    writeFileSync(files.pidFile, `${pid}\n`)
    const reported = yield* Effect.sync(() => readStatus(mapping.statusFile)?.pid === pid).pipe(
      Effect.repeat({ schedule: ready, until: (ok) => ok || child.exitCode !== null })
    )
    if (!reported) {
      yield* Background.stop(files.pidFile)
      return yield* new LocalStackError({
        message: `the runner did not start; last lines of ${files.logFile}:\n${tail(files.logFile, 15)}`
      })
    }
    return pid
  })
