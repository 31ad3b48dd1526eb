/**
 * The runtime plus one Schema decode at the boundary, as every handler that checks its input has:
 * what Schema adds to the smallest program.
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"

const Event = Schema.Struct({ Records: Schema.Array(Schema.Struct({ eventName: Schema.String })) })

export const handler = (event: unknown) => Effect.runPromise(Schema.decodeUnknownEffect(Event)(event))
