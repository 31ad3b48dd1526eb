/**
 * Every live layer, wired once: what the Lambda handler and the scripts run on.
 */
import * as Layer from "effect/Layer"
import { DynamoDb } from "./DynamoDb.js"
import * as Logging from "./Logging.js"
import { ProfileStore } from "./ProfileStore.js"
import { Quarantine } from "./Quarantine.js"
import { Tables } from "./Tables.js"
import { TransactionStore } from "./TransactionStore.js"

/**
 * The services a batch needs, and the rows a recount reads (scripts use them too), over any `DynamoDb`
 * and `Tables` (tests give DynamoDB Local's). Not `SharedRecount`: only backfill needs it, and what is
 * named here ships in the Lambda bundle.
 */
export const services = Layer.mergeAll(ProfileStore.layerNoDeps, Quarantine.layerNoDeps).pipe(
  Layer.provideMerge(TransactionStore.layerNoDeps)
)

/** The services, the client and table names they run on (scripts use those too), and a logger. */
export const withLogging = <E>(logging: Layer.Layer<never, E>) =>
  services.pipe(
    Layer.provideMerge(Layer.mergeAll(DynamoDb.layer, Tables.layer)),
    // provideMerge, not provide: the handler's own logs must go through this logger too.
    Layer.provideMerge(logging)
  )

/** What the Lambda function runs on: JSON logs on stdout. */
export const AppLayer = withLogging(Logging.layer)
