/**
 * A DynamoDB Local of its own for one measurement: DynamoDB Local slows down as its tables and streams
 * fill, so a row measured after others on the shared instance inherits their load.
 */
import { scopedInMemory } from "@dyna/tools/local/DynamoDbLocal"
import * as Effect from "effect/Effect"

/** The instance a measurement runs on: its process, for `CpuTime`. */
export interface Local {
  readonly pid: number | undefined
}

/** Runs `work` against a DynamoDB Local started in memory for it, and stops that instance after. */
export const run = <A>(work: (endpoint: string, local: Local) => Promise<A>): Promise<A> =>
  Effect.runPromise(Effect.scoped(Effect.flatMap(scopedInMemory, ({ endpoint, pid }) => Effect.promise(() => work(endpoint, { pid })))))
