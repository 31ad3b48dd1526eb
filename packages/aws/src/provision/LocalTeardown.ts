/**
 * `pnpm teardown` on the local target: stops the runner, removes the published function and the
 * runner's program, deletes the tables only when asked to, and stops our DynamoDB Local. Afterwards
 * nothing of ours listens and no process of ours is left.
 */
import * as Effect from "effect/Effect"
import { existsSync, rmSync } from "node:fs"
import * as Deployment from "../Deployment.js"
import * as Background from "../local/Background.js"
import * as LocalConfig from "../local/LocalConfig.js"
import { Tables } from "../Tables.js"
import type { Outcome } from "./Step.js"
import { deleteTable } from "./TableSteps.js"

const removeFiles = (files: ReadonlyArray<string>, resource: string) =>
  Effect.sync((): Outcome => {
    const present = files.filter((f) => existsSync(f))
    for (const f of present) rmSync(f, { recursive: true, force: true })
    return { action: present.length === 0 ? "unchanged" : "deleted", resource }
  })

const stopped = (pidFile: string, resource: string) =>
  Background.stop(pidFile).pipe(
    Effect.map((result): Outcome => ({ action: result === "stopped" ? "stopped" : "unchanged", resource, detail: result }))
  )

/** The local teardown's steps, in order. */
export const localTeardownSteps = (options: { readonly deleteData: boolean }) =>
  Effect.gen(function*() {
    const { functionDir, runner, pidFile, dataDir, endpoint } = yield* LocalConfig.settings
    const tables = yield* Tables
    const names = Deployment.tableNames(tables)
    const kept = (name: string) => Effect.succeed<Outcome>({ action: "kept", resource: name, detail: "pass --delete-data to delete it" })
    // Reachable only while DynamoDB Local runs: delete tables first, stop it last.
    const dataSteps = options.deleteData
      ? [
        ...names.map((name) => ({ title: `table ${name}`, run: deleteTable(name) })),
        {
          title: "runner checkpoints and on-failure records",
          run: removeFiles([runner.checkpointFile, runner.onFailureFile], runner.checkpointFile)
        }
      ]
      : names.map((name) => ({ title: `table ${name}`, run: kept(name) }))
    return [
      { title: "local runner", run: stopped(runner.pidFile, runner.pidFile) },
      {
        title: "stream mapping and function",
        run: removeFiles([runner.mappingFile, runner.script, runner.statusFile, functionDir], functionDir)
      },
      ...dataSteps,
      { title: "DynamoDB Local", run: stopped(pidFile, endpoint) },
      ...(options.deleteData ? [{ title: "DynamoDB Local data", run: removeFiles([dataDir], dataDir) }] : [])
    ]
  })
