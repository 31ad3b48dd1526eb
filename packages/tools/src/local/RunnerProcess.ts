/**
 * The local runner as a background process: provisioning writes the mapping it serves, starts it
 * detached with its output in `.dyna/runner.log`, and waits until it reports itself running.
 */
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import { spawn } from "node:child_process"
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from "node:fs"
import { devNull } from "node:os"
import { dirname } from "node:path"
import * as Deployment from "@dyna/aws/Deployment"
import * as Background from "./Background.js"
import { LocalStackError } from "./LocalStackError.js"

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
 * What the runner may take from the environment of the command that starts it: where DynamoDB Local
 * listens, the region to sign with, the log level, PATH, and whether the SDK's Node-version notice is
 * shown (the commands silence it). Nothing else: that environment may hold real AWS keys, a profile,
 * tokens of other tools.
 */
export const INHERITED: ReadonlyArray<string> = [
  "PATH",
  "LOG_LEVEL",
  "AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED",
  "AWS_ENDPOINT_URL_DYNAMODB",
  "AWS_ENDPOINT_URL_DYNAMODB_STREAMS",
  "AWS_REGION"
]

/**
 * The runner's whole environment, built here rather than passed on: the allowed variables of `from`
 * (see {@link INHERITED}), the function's name as Lambda sets it (`AWS_LAMBDA_FUNCTION_NAME`, the
 * Jam's: the dimension of the metrics it prints), then the function's own (`mapping.environment`: its
 * tables, its log level, as Lambda sets them), then DynamoDB Local's placeholder credentials (it runs with `-sharedDb` and checks
 * none) with the SDK's shared config and credentials files pointed at nothing and the instance metadata
 * service off, so neither the runner nor the function it loads can find a real AWS key anywhere.
 */
export const environment = (mapping: Mapping, from: Readonly<Record<string, string | undefined>>): Record<string, string> => {
  const inherited = INHERITED.flatMap((name) => {
    const value = from[name]
    return value === undefined ? [] : [[name, value] as const]
  })
  return {
    AWS_REGION: "us-east-1",
    ...Object.fromEntries(inherited),
    AWS_LAMBDA_FUNCTION_NAME: Deployment.names().functionName,
    ...mapping.environment,
    AWS_ACCESS_KEY_ID: "local",
    AWS_SECRET_ACCESS_KEY: "local",
    AWS_CONFIG_FILE: devNull,
    AWS_SHARED_CREDENTIALS_FILE: devNull,
    AWS_EC2_METADATA_DISABLED: "true"
  }
}

/**
 * Writes the mapping, starts `node runner.mjs <mapping>` detached and waits until the runner has
 * reported its own pid in the status file. A runner that dies on the way fails with its last log lines.
 * `env` is the caller's environment: only what {@link environment} allows of it reaches the runner, and
 * it must name DynamoDB Local's endpoint (`AWS_ENDPOINT_URL_DYNAMODB`).
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
      env: environment(mapping, env)
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
