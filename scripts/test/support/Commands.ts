/**
 * The pnpm commands as the tests run them: `pnpm -s <command>` from the repository root, against a
 * stack of the test file's own (a temporary DYNA_HOME and a DynamoDB endpoint on a free port).
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb"
import * as Deployment from "@dyna/aws/Deployment"
import { DynamoDb } from "@dyna/aws/DynamoDb"
import { freePort, scopedInMemory } from "@dyna/tools/local/DynamoDbLocal"
import { ensureTable, eventsTable, profilesTable, rejectedTable, transactionsTable } from "@dyna/tools/provision/TableSteps"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Scope from "effect/Scope"
import { spawn, spawnSync } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, beforeAll } from "vitest"

/** The repository root: the README runs every command from here. */
export const root = resolve(dirname(fileURLToPath(import.meta.url)), "../../..")

/** How a command ended: its exit code (`null` when a signal ended it) and what it wrote. */
export interface Ran {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** Runs `pnpm -s <args>` from the repository root and blocks until it ends. */
export const pnpmSync = (env: NodeJS.ProcessEnv, ...args: ReadonlyArray<string>): Ran => {
  const result = spawnSync("pnpm", ["-s", ...args], { cwd: root, env, encoding: "utf8" })
  return { code: result.status, stdout: result.stdout, stderr: result.stderr }
}

/** Runs `pnpm -s <args>` from the repository root without blocking: several may run at once. */
export const pnpm = (env: NodeJS.ProcessEnv, ...args: ReadonlyArray<string>): Promise<Ran> =>
  new Promise((done, fail) => {
    const child = spawn("pnpm", ["-s", ...args], { cwd: root, env })
    let stdout = ""
    let stderr = ""
    // Decoded as a stream, so a character split across two chunks (→, ★, —) stays whole.
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk))
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk))
    child.once("error", fail)
    child.once("close", (code) => done({ code, stdout, stderr }))
  })

/** A test file's own stack. Read the fields inside tests and hooks: `beforeAll` sets them. */
export interface Stack {
  /** The environment to run the commands in: this process's, with the endpoint and DYNA_HOME below. */
  readonly env: NodeJS.ProcessEnv
  /** DYNA_HOME: a fresh temporary folder, removed after the file. */
  readonly home: string
  readonly port: number
  /** `http://127.0.0.1:<port>`, as AWS_ENDPOINT_URL_DYNAMODB. */
  readonly endpoint: string
  /** An SDK client on the endpoint, for writing and reading rows behind the commands' backs. */
  readonly db: DynamoDBClient
}

const stackOn = (prefix: string, port: number): Stack => {
  const home = mkdtempSync(join(tmpdir(), prefix))
  const endpoint = `http://127.0.0.1:${port}`
  return {
    env: { ...process.env, AWS_ENDPOINT_URL_DYNAMODB: endpoint, DYNA_HOME: home },
    home,
    port,
    endpoint,
    db: new DynamoDBClient({ endpoint, region: "us-east-1", credentials: { accessKeyId: "test", secretAccessKey: "test" } })
  }
}

/** Releases what {@link stackOn} made; safe after a `beforeAll` that failed half-way. */
const release = (stack: Partial<Stack>) => {
  stack.db?.destroy()
  if (stack.home !== undefined) rmSync(stack.home, { recursive: true, force: true })
}

/**
 * An empty DYNA_HOME (folder named `<prefix>…`) and a free port for the file, so that `pnpm provision`
 * starts a local stack of its own there. Afterwards `pnpm local:stop` stops whatever is still running.
 */
export const useLocalHome = (prefix: string): Stack => {
  const stack = {} as Stack
  beforeAll(async () => {
    Object.assign(stack, stackOn(prefix, await Effect.runPromise(freePort)))
  })
  afterAll(() => {
    if (stack.env !== undefined) pnpmSync(stack.env, "local:stop")
    release(stack)
  })
  return stack
}

/** The pid of the local runner `pnpm provision` started in `home`, from its pid file. */
export const runnerPid = (home: string) => Number(readFileSync(join(home, "runner", "runner.pid"), "utf8").trim())

/** The four tables under the Jam's names, as provision makes them (no stream: nothing reads it here). */
const definitions = (names: Deployment.TableNames) => [
  transactionsTable(names.transactions),
  profilesTable(names.profiles),
  rejectedTable(names.rejected),
  eventsTable(names.events)
]

/**
 * An in-memory DynamoDB Local for the file, holding the four tables under their default names (no
 * function, no runner), and an empty DYNA_HOME (folder named `<prefix>…`). Stopped afterwards.
 */
export const useInMemoryTables = (prefix: string): Stack => {
  const stack = {} as Stack
  let scope: Scope.Closeable | undefined
  beforeAll(async () => {
    scope = await Effect.runPromise(Scope.make())
    const { port } = await Effect.runPromise(scopedInMemory.pipe(Scope.provide(scope)))
    Object.assign(stack, stackOn(prefix, port))
    await Effect.runPromise(
      Effect.forEach(definitions(Deployment.names()), (d) => ensureTable(d), { discard: true }).pipe(
        Effect.provide(Layer.succeed(DynamoDb, DynamoDb.fromClient(stack.db, stack.endpoint)))
      )
    )
  })
  afterAll(async () => {
    release(stack)
    if (scope !== undefined) await Effect.runPromise(Scope.close(scope, Exit.void))
  })
  return stack
}
