/**
 * Fresh, uniquely named tables on the bench's DynamoDB Local, made by the same provisioning steps the
 * local stack uses (`TableSteps`), with or without the NEW_IMAGE stream on CustTransactions.
 */
import * as AppLayer from "@dyna/aws/AppLayer"
import * as Deployment from "@dyna/aws/Deployment"
import { DynamoDb } from "@dyna/aws/DynamoDb"
import { ensureStream, ensureTable, eventsTable, profilesTable, rejectedTable, transactionsTable } from "@dyna/tools/provision/TableSteps"
import * as Environment from "@dyna/aws/Environment"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import { randomUUID } from "node:crypto"

/** The four tables' names. */
export type Names = Deployment.TableNames

/** The configuration a deployed function gets (its table names, when given), pointed at `endpoint`. */
const configLayer = (endpoint: string, names?: Names) =>
  Environment.layer({
    ...(names === undefined ? {} : Deployment.tableEnvironment(names)),
    AWS_ENDPOINT_URL_DYNAMODB: endpoint
  })

/**
 * The function's own layers (`AppLayer.withLogging`: the live services, client and table names) over
 * these tables, with logging off: what the handler runs on.
 */
export const appLayer = (endpoint: string, names: Names) =>
  AppLayer.withLogging(Logger.layer([])).pipe(Layer.provide(configLayer(endpoint, names)))

/** The same for the ops (`AppLayer.operations`: the function's services and the recounts), as their scripts run. */
export const operationsLayer = (endpoint: string, names: Names) =>
  AppLayer.operations(Logger.layer([])).pipe(Layer.provide(configLayer(endpoint, names)))

/** Runs a provisioning step against `endpoint`. */
const provision = <A, E>(endpoint: string, step: Effect.Effect<A, E, DynamoDb>) =>
  Effect.runPromise(step.pipe(Effect.provide(DynamoDb.layer.pipe(Layer.provide(configLayer(endpoint))))))

/** Makes the four tables under a fresh prefix (`label-xxxxxx-CustTransactions`, …), with no stream. */
export const make = (endpoint: string, label: string) =>
  provision(endpoint, Effect.gen(function*() {
    const names = Deployment.names(`${label}-${randomUUID().slice(0, 6)}-`)
    yield* ensureTable(transactionsTable(names.transactions))
    yield* ensureTable(profilesTable(names.profiles))
    yield* ensureTable(rejectedTable(names.rejected))
    yield* ensureTable(eventsTable(names.events))
    return { names }
  }))

/** The same, with CustTransactions' NEW_IMAGE stream on; also the stream's ARN. */
export const makeStreamed = async (endpoint: string, label: string) => {
  const { names } = await make(endpoint, label)
  const stream = await provision(endpoint, ensureStream(names.transactions))
  return { names, streamArn: stream.resource }
}
