/**
 * The smallest Effect program a handler can be: one effect run to a promise. Row 4 bundles it to show
 * what Effect's runtime costs before any feature is used.
 */
import * as Effect from "effect/Effect"

export const handler = (event: unknown) => Effect.runPromise(Effect.succeed(event))
