/**
 * The function the reliability suite's runner invokes, standing in for a Lambda environment: the real
 * handler runs in a worker process (`ReliabilityWorker.ts`, bundled), every batch is delivered to it
 * two or three times (one after another, or some at once) and the last answer goes back to the runner.
 * Once every `killEvery` batches the worker is armed: after a profile write of that batch lands it is
 * SIGKILLed, the invocation fails as Lambda's does when its runtime exits, and a spare worker takes over.
 */
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from "aws-lambda"
import { type ChildProcess, fork } from "node:child_process"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { build } from "esbuild"
import type * as Deployment from "@dyna/aws/Deployment"
import * as Bundle from "../../src/provision/Bundle.js"
import * as Faults from "./ReliabilityFaults.js"
import type { FromWorker, ToWorker, WorkerConfig } from "./ReliabilityWorker.js"

const WORKER_SOURCE = fileURLToPath(new URL("./ReliabilityWorker.ts", import.meta.url))

/**
 * The worker bundled into one file in `dir` with the Lambda artifact's esbuild options, for the Node
 * that forks it: a process then starts in well under a second, where tsx would take many on a busy machine.
 */
export const bundle = async (dir: string): Promise<string> => {
  const outfile = join(dir, "reliability-worker.mjs")
  await build({ ...Bundle.options, target: Bundle.localTarget, entryPoints: [WORKER_SOURCE], outfile, write: true })
  return outfile
}

export interface Options {
  /** The worker program, from {@link bundle}. */
  readonly workerFile: string
  readonly endpoint: string
  readonly names: Deployment.TableNames
  readonly seed: number
  readonly rates: Faults.Rates
  /** A kill is armed on batch killEvery / 4, then every killEvery batches; 0 for none. */
  readonly killEvery: number
  /**
   * On batch hotEvery / 5, then every hotEvery batches, the first record's customer is a hot key while the
   * batch is delivered: every call on it is throttled through all the handler's retries, so the answer
   * reports its records and the runner delivers them again; 0 for none.
   */
  readonly hotEvery: number
}

/** What the function did, for the suite's checks and its table of figures. */
export interface Figures {
  /** Invocations by the runner (its batches, counting its own retries and bisected halves). */
  invocations: number
  /** Calls of the handler: every delivery of every batch. */
  deliveries: number
  /** Invocations answered after two deliveries, and after three. */
  deliveredTwice: number
  deliveredThrice: number
  /** Invocations with two or three deliveries running at the same time. */
  racing: number
  /** Invocations answered with batchItemFailures (the runner delivers those records again). */
  partial: number
  /** Invocations that failed because their worker was killed. */
  killedInvocations: number
  /** Invocations that failed with the worker alive: the handler threw (it never should here). */
  thrown: number
  kills: number
  /** Customers made hot keys (every call on them throttled while one batch is delivered). */
  hotKeys: number
  /** Worker processes started: the first, and a spare ahead of each kill. */
  workers: number
  faults: Record<Faults.Kind, number>
  /** Conditional writes that really lost to another writer (not injected). */
  lostRaces: number
  /** From the handler's own "batch processed" lines. */
  applied: number
  duplicates: number
  failedRecords: number
}

interface Worker {
  readonly child: ChildProcess
  readonly ready: Promise<void>
  readonly pending: Map<number, { readonly resolve: (r: unknown) => void; readonly reject: (e: Error) => void }>
  dead: boolean
}

const lowestFailure = (response: unknown): bigint | undefined => {
  const failures = (response as Partial<DynamoDBBatchResponse> | null | undefined)?.batchItemFailures ?? []
  const ids = failures.map((f) => BigInt(f.itemIdentifier))
  return ids.length === 0 ? undefined : ids.reduce((a, b) => (a < b ? a : b))
}

export const make = (options: Options) => {
  const next = Faults.random(options.seed)
  const figures: Figures = {
    invocations: 0,
    deliveries: 0,
    deliveredTwice: 0,
    deliveredThrice: 0,
    racing: 0,
    partial: 0,
    killedInvocations: 0,
    thrown: 0,
    kills: 0,
    hotKeys: 0,
    workers: 0,
    faults: Faults.emptyCounts(),
    lostRaces: 0,
    applied: 0,
    duplicates: 0,
    failedRecords: 0
  }
  /** Sequence numbers the runner was told were handled: in an answer, below any reported failure. */
  const handled = new Set<string>()
  let closing = false
  let requestIds = 0
  let inFlight = 0
  let lastDone = Date.now()
  /** Milliseconds since the last invocation ended; 0 while one runs. */
  const idleFor = () => (inFlight > 0 ? 0 : Date.now() - lastDone)

  const start = (): Worker => {
    figures.workers++
    const config: WorkerConfig = {
      endpoint: options.endpoint,
      names: options.names,
      seed: options.seed + figures.workers * 7919,
      rates: options.rates
    }
    const child = fork(options.workerFile, [], {
      execArgv: [],
      env: { ...process.env, RELIABILITY_WORKER: JSON.stringify(config) },
      stdio: ["ignore", "inherit", "inherit", "ipc"]
    })
    let ready = () => {}
    let failedToStart = (_: Error) => {}
    const worker: Worker = {
      child,
      ready: new Promise<void>((resolve, reject) => {
        ready = resolve
        failedToStart = reject
      }),
      pending: new Map(),
      dead: false
    }
    child.on("message", (message: FromWorker) => {
      switch (message._tag) {
        case "ready":
          return ready()
        case "response":
          return worker.pending.get(message.id)?.resolve(message.response)
        case "error":
          return worker.pending.get(message.id)?.reject(new Error(message.message))
        case "fault":
          figures.faults[message.kind]++
          return
        case "lostRace":
          figures.lostRaces++
          return
        case "summary":
          figures.applied += Number(message.annotations.applied ?? 0)
          figures.duplicates += Number(message.annotations.duplicates ?? 0)
          figures.failedRecords += Number(message.annotations.failed ?? 0)
          return
        case "hit":
          // A profile write of the batch has landed and the handler has not answered: kill it here.
          figures.kills++
          child.kill("SIGKILL")
          return
      }
    })
    child.once("exit", (code, signal) => {
      worker.dead = true
      const error = new Error(`Runtime exited with ${signal === null ? `code ${code}` : `signal: ${signal}`} (Runtime.ExitError)`)
      failedToStart(error)
      for (const { reject } of worker.pending.values()) reject(error)
      worker.pending.clear()
      // The next invocation goes to a fresh environment: the spare, started ahead so that a kill does
      // not wait for Node to start; another spare starts now.
      if (!closing && current === worker) {
        current = spare
        spare = start()
      }
    })
    worker.ready.catch(() => {})
    return worker
  }

  let current = start()
  let spare = start()

  const deliver = (worker: Worker, event: DynamoDBStreamEvent) =>
    new Promise<unknown>((resolve, reject) => {
      if (worker.dead) return reject(new Error("Runtime exited (Runtime.ExitError)"))
      const id = ++requestIds
      const settle = <A>(f: (a: A) => void) => (a: A) => {
        worker.pending.delete(id)
        f(a)
      }
      worker.pending.set(id, { resolve: settle(resolve), reject: settle(reject) })
      figures.deliveries++
      worker.child.send({ _tag: "invoke", id, event } satisfies ToWorker)
    })

  /** The function as the runner calls it. */
  const invoke = async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
    const n = ++figures.invocations
    const times = next() < 0.5 ? 2 : 3
    // One after another (as Lambda retries), or the first two at once, or all at once (as two
    // environments can hold the same batch when one timed out but is still running).
    const mode = next()
    const racing = mode < 0.3 ? times : mode < 0.6 ? 2 : 1
    const kill = options.killEvery > 0 && n % options.killEvery === Math.floor(options.killEvery / 4)
    const hotEvery = options.hotEvery > 0 && n % options.hotEvery === Math.floor(options.hotEvery / 5)
    const hot = hotEvery ? event.Records[0]?.dynamodb?.NewImage?.CustID?.S : undefined
    const worker = current
    inFlight++
    try {
      await worker.ready
      if (kill) worker.child.send({ _tag: "arm", afterWrites: 1 + Math.floor(next() * 3) } satisfies ToWorker)
      if (hot !== undefined) {
        figures.hotKeys++
        worker.child.send({ _tag: "hot", custId: hot } satisfies ToWorker)
      }
      if (racing > 1) figures.racing++
      let response = (await Promise.all(Array.from({ length: racing }, () => deliver(worker, event)))).at(-1)
      for (let i = racing; i < times; i++) response = await deliver(worker, event)
      if (times === 2) figures.deliveredTwice++
      else figures.deliveredThrice++
      const lowest = lowestFailure(response)
      if (lowest !== undefined) figures.partial++
      for (const r of event.Records) {
        const seq = r.dynamodb?.SequenceNumber
        if (seq !== undefined && (lowest === undefined || BigInt(seq) < lowest)) handled.add(seq)
      }
      return response as DynamoDBBatchResponse
    } catch (error) {
      if (worker.dead) figures.killedInvocations++
      else figures.thrown++
      throw error
    } finally {
      if (hot !== undefined && !worker.dead) worker.child.send({ _tag: "cool", custId: hot } satisfies ToWorker)
      inFlight--
      lastDone = Date.now()
    }
  }

  /** Ends the workers: each channel closes and the process exits, or it is killed after 5 s. */
  const close = async () => {
    closing = true
    await Promise.all([current, spare].map(async (worker) => {
      if (worker.dead) return
      const exited = new Promise<void>((resolve) => worker.child.once("exit", () => resolve()))
      if (worker.child.connected) worker.child.disconnect()
      const timer = setTimeout(() => worker.child.kill("SIGKILL"), 5_000)
      await exited
      clearTimeout(timer)
    }))
  }

  return { invoke, figures, handled, idleFor, close }
}
