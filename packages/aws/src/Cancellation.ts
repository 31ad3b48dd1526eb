/**
 * Why DynamoDB cancelled a TransactWriteItems, item by item: which item's condition failed tells a
 * profile that changed under us from a key found taken.
 */
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import type { DynamoDbError } from "./DynamoDb.js"

/** A cancellation's reasons, in the order of its `TransactItems`. */
const Cancellation = Schema.Struct({
  CancellationReasons: Schema.Array(Schema.Struct({ Code: Schema.optional(Schema.String) }))
})
const decodeCancellation = Schema.decodeUnknownOption(Cancellation)

/** Each item's reason, in the order of its `TransactItems`; `undefined` when the failure was no cancellation. */
export const reasons = (error: DynamoDbError) => Option.getOrUndefined(decodeCancellation(error.cause))?.CancellationReasons

/** The code of the `index`th item's cancellation reason, when DynamoDB gave one. */
export const code = (error: DynamoDbError, index: number): string | undefined => reasons(error)?.[index]?.Code
