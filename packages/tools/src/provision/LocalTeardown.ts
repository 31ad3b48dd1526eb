/**
 * `pnpm teardown` on the local target: stops the runner, removes the published function and the
 * runner's program, deletes the tables only when asked to (those provision created; the others only with
 * `--force-delete-data`), each saved to a file first when it holds items, and stops our DynamoDB Local.
 * Afterwards nothing of ours listens and no process of ours is left.
 */
import type { TableDescription } from "@aws-sdk/client-dynamodb"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import { existsSync, mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import * as Deployment from "@dyna/aws/Deployment"
import { DynamoDb, DynamoDbError } from "@dyna/aws/DynamoDb"
import * as Background from "../local/Background.js"
import * as Home from "../local/Home.js"
import * as LocalConfig from "../local/LocalConfig.js"
import * as OwnedTables from "../local/OwnedTables.js"
import * as Scan from "../ops/Scan.js"
import { Tables } from "@dyna/aws/Tables"
import { LOCAL_OWNER } from "./LocalSteps.js"
import { change, noChange, type Outcome, type Step } from "./Step.js"
import * as TableSteps from "./TableSteps.js"

/**
 * Files and folders of ours that are there; removing them is the step's change. Only inside a `DYNA_HOME`
 * that carries the project's marker (`Home`): anything else there is the user's.
 */
const decideRemoveFiles = (home: string, files: ReadonlyArray<string>, resource: string) =>
  Effect.sync(() => {
    const present = files.filter((f) => existsSync(f))
    if (present.length === 0) return noChange<Home.HomeError, never>({ action: "unchanged", resource })
    // An unmarked home that holds only the stack's own names was made by a version before the marker.
    const standing = Home.check(home)
    if (standing !== "ours" && standing !== "unmarked") {
      return noChange<Home.HomeError, never>({ action: "kept", resource, detail: `DYNA_HOME has no ${Home.MARKER} marker` })
    }
    return change<Home.HomeError, never>(
      { action: "deleted", resource },
      Home.claim(home).pipe(Effect.andThen(Home.removeOwned(home, present)), Effect.as<Outcome>({ action: "deleted", resource }))
    )
  })

const decideStop = (pidFile: string, resource: string) =>
  Effect.map(Background.running(pidFile), (pid) =>
    pid === undefined
      ? noChange<never, never>({ action: "unchanged", resource, detail: "not running" })
      : change<never, never>(
        { action: "stopped", resource, detail: `pid ${pid}` },
        Background.stop(pidFile).pipe(Effect.map((result): Outcome => ({ action: result === "stopped" ? "stopped" : "unchanged", resource, detail: result })))
      ))

/** DynamoDB Local has no backups: a table with items is saved as one JSON item per line in `backups/` first. */
export const fileBackup = (dir: string): TableSteps.Backup<DynamoDbError, DynamoDb> => (table: TableDescription) =>
  Effect.gen(function*() {
    const name = table.TableName ?? "table"
    const stamp = DateTime.formatIso(yield* DateTime.now).replace(/[:.]/g, "-")
    const file = join(dir, `${name}-${stamp}.jsonl`)
    const items = yield* Scan.all(name)
    mkdirSync(dir, { recursive: true })
    writeFileSync(file, items.map((item) => JSON.stringify(item)).join("\n") + "\n", { mode: 0o600 })
    return file
  })

export type LocalTeardownError = DynamoDbError | Home.HomeError

/** The local teardown's steps, in order. */
export const localTeardownSteps = (options: TableSteps.RemoveOptions) =>
  Effect.gen(function*() {
    const { functionDir, runner, pidFile, dataDir, endpoint, home } = yield* LocalConfig.settings
    // A folder that holds what is not ours names no process of ours and nothing to delete.
    yield* Home.requireOurs(home)
    const tables = yield* Tables
    const owned = OwnedTables.ownership(home, LOCAL_OWNER)
    const backup = fileBackup(join(home, "backups"))
    // Reachable only while DynamoDB Local runs: delete tables first, stop it last. Without our DynamoDB
    // Local running there is nothing of ours to delete (a DynamoDB someone else runs there is not ours).
    const table = (name: string): Step<LocalTeardownError, DynamoDb> => ({
      title: `table ${name}`,
      decide: TableSteps.decideRemoveTable(name, owned, options, backup).pipe(
        Effect.catchIf(
          (e): boolean => e instanceof DynamoDbError && e.kind === "Unreachable",
          () => Effect.succeed(noChange({ action: "unchanged", resource: name, detail: "DynamoDB Local is not running" }))
        )
      )
    })
    const steps: ReadonlyArray<Step<LocalTeardownError, DynamoDb>> = [
      { title: "local runner", decide: decideStop(runner.pidFile, runner.pidFile) },
      {
        title: "stream mapping and function",
        decide: decideRemoveFiles(home, [runner.mappingFile, runner.script, runner.statusFile, functionDir], functionDir)
      },
      ...Deployment.tableNames(tables).map(table),
      ...(options.deleteData
        ? [{
          title: "runner checkpoints and on-failure records",
          decide: decideRemoveFiles(home, [runner.checkpointFile, runner.onFailureFile], runner.checkpointFile)
        }]
        : []),
      { title: "DynamoDB Local", decide: decideStop(pidFile, endpoint) },
      ...(options.deleteData ? [{ title: "DynamoDB Local data", decide: decideRemoveFiles(home, [dataDir], dataDir) }] : [])
    ]
    return steps
  })
