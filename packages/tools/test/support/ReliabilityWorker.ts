/**
 * The reliability suite's function process: the real handler (`Handler.make` over the live services)
 * in a Node process of its own, taking invocations over IPC, its DynamoDB client carrying the injected
 * faults. Armed by the parent, it tells the parent when a profile write has landed mid-batch and then
 * stops answering, so the parent can SIGKILL it there; told of a hot key, it throttles every call on that
 * customer for a while. Started by `ReliabilityFunction`, never alone.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb"
import type { DynamoDBStreamEvent } from "aws-lambda"
import * as Environment from "@dyna/aws/Environment"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import { services } from "@dyna/aws/AppLayer"
import * as Deployment from "@dyna/aws/Deployment"
import { DynamoDb } from "@dyna/aws/DynamoDb"
import * as Handler from "@dyna/aws/Handler"
import { Tables } from "@dyna/aws/Tables"
import * as Faults from "./ReliabilityFaults.js"

/** What the parent passes in `RELIABILITY_WORKER`, as JSON. */
export interface WorkerConfig {
  readonly endpoint: string
  readonly names: Deployment.TableNames
  readonly seed: number
  readonly rates: Faults.Rates
}

/** Parent → worker. */
export type ToWorker =
  | { readonly _tag: "invoke"; readonly id: number; readonly event: DynamoDBStreamEvent }
  /** After `afterWrites` more profile writes land, say "hit" and hang: the parent kills the process. */
  | { readonly _tag: "arm"; readonly afterWrites: number }
  /** Throttle every call on this customer (a hot key), until `cool`. */
  | { readonly _tag: "hot"; readonly custId: string }
  | { readonly _tag: "cool"; readonly custId: string }

/** Worker → parent. */
export type FromWorker =
  | { readonly _tag: "ready" }
  | { readonly _tag: "response"; readonly id: number; readonly response: unknown }
  | { readonly _tag: "error"; readonly id: number; readonly message: string }
  | { readonly _tag: "fault"; readonly kind: Faults.Kind }
  /** A conditional write that really lost to another writer (not injected). */
  | { readonly _tag: "lostRace" }
  | { readonly _tag: "summary"; readonly annotations: Record<string, unknown> }
  | { readonly _tag: "hit" }

// After the parent has closed the channel (the suite is done), what is left to say is dropped.
const send = (message: FromWorker) => void (process.connected && process.send?.(message))

const config: WorkerConfig = JSON.parse(process.env.RELIABILITY_WORKER ?? "null")
const next = Faults.random(config.seed)
let armed: number | undefined
/** Hot keys: customers every call on whom is throttled, until the parent says otherwise. */
const hot = new Set<string>()

const client = new DynamoDBClient({
  endpoint: config.endpoint,
  region: "us-east-1",
  credentials: { accessKeyId: "test", secretAccessKey: "test" },
  maxAttempts: 1
})
client.middlewareStack.add(
  (nextHandler, context) => async (args) => {
    const command = context.commandName ?? ""
    const fault = Faults.customersOf(args.input as Record<string, unknown>).some((custId) => hot.has(custId))
      ? "hot key: throttled through every retry"
      : Faults.before(next, config.rates, command)
    if (fault !== undefined) {
      send({ _tag: "fault", kind: fault })
      throw Faults.exception(fault)
    }
    try {
      const output = await nextHandler(args)
      if (Faults.isProfileWrite(command) && armed !== undefined && --armed <= 0) {
        // Landed, and the handler will never hear of it: the parent kills this process now.
        armed = undefined
        send({ _tag: "hit" })
        await new Promise<never>(() => {})
      }
      if (Faults.lost(next, config.rates, command)) {
        send({ _tag: "fault", kind: "response lost after the write landed" })
        throw Faults.exception("response lost after the write landed")
      }
      return output
    } catch (error) {
      // A real conditional write (or transaction) that lost to another writer: not injected, counted apart.
      if (error instanceof Error && (error.name === "ConditionalCheckFailedException" || error.name === "TransactionCanceledException")) {
        send({ _tag: "lostRace" })
      }
      throw error
    }
  },
  { step: "initialize", name: "reliabilityFaults" }
)

const live = Handler.make(
  services.pipe(
    Layer.provideMerge(Layer.mergeAll(
      Layer.succeed(DynamoDb, DynamoDb.fromClient(client, config.endpoint)),
      Tables.layer.pipe(Layer.provide(Environment.layer(Deployment.tableEnvironment(config.names))))
    )),
    Layer.provideMerge(Logger.layer([
      Logger.map(Logger.formatStructured, (line) => {
        if (line.message === "batch processed") send({ _tag: "summary", annotations: line.annotations })
      })
    ]))
  )
)

process.on("message", (message: ToWorker) => {
  if (message._tag === "arm") armed = message.afterWrites
  else if (message._tag === "hot") hot.add(message.custId)
  else if (message._tag === "cool") hot.delete(message.custId)
  else {
    live.handler(message.event).then(
      (response) => send({ _tag: "response", id: message.id, response }),
      (error: unknown) => send({ _tag: "error", id: message.id, message: error instanceof Error ? `${error.name}: ${error.message}` : String(error) })
    )
  }
})
// The parent closes the channel when it is done with this process.
process.on("disconnect", () => void live.dispose().finally(() => process.exit(0)))
send({ _tag: "ready" })
