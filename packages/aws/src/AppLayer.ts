/**
 * Every live layer, wired once: the handler's (`AppLayer`) and the tools' (`operations`), which the
 * scripts run on.
 */
import * as Layer from "effect/Layer"
import { DynamoDb } from "./DynamoDb.js"
import * as Logging from "./Logging.js"
import { ProfileStore } from "./ProfileStore.js"
import { Quarantine } from "./Quarantine.js"
import { Recount } from "./Recount.js"
import { Tables } from "./Tables.js"
import { TransactionStore } from "./TransactionStore.js"

/** The services a batch needs, over any `DynamoDb` and `Tables` (tests give DynamoDB Local's). */
export const services = Layer.mergeAll(ProfileStore.layerNoDeps, Quarantine.layerNoDeps)

/**
 * What the tools run on: the batch's services, the recounts (`Recount`) and the rows they read
 * (`TransactionStore`), over any `DynamoDb` and `Tables`. A function, not a layer: the handler never
 * calls it, so esbuild leaves what only it names out of the Lambda bundle (a layer built at the top of
 * this module would ship, called or not).
 */
export const operationsNoDeps = () =>
  Layer.mergeAll(services, Recount.layerNoDeps).pipe(Layer.provideMerge(TransactionStore.layerNoDeps))

/** The given services over the client and table names from the environment (scripts use those too), and a logger. */
const live = <A, E, R, E2>(layer: Layer.Layer<A, E, R>, logging: Layer.Layer<never, E2>) =>
  layer.pipe(
    Layer.provideMerge(Layer.mergeAll(DynamoDb.layer, Tables.layer)),
    // provideMerge, not provide: the handler's own logs must go through this logger too.
    Layer.provideMerge(logging)
  )

/** The batch's services, live, with the given logger. */
export const withLogging = <E>(logging: Layer.Layer<never, E>) => live(services, logging)

/** The tools' services (`operationsNoDeps`), live, with the given logger: what the scripts run on. */
export const operations = <E>(logging: Layer.Layer<never, E>) => live(operationsNoDeps(), logging)

/** What the Lambda function runs on: JSON logs on stdout. */
export const AppLayer = withLogging(Logging.layer)
