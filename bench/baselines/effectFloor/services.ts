/**
 * The runtime, one Schema decode, and one service provided by a layer through a `ManagedRuntime`, with
 * its settings decoded from the environment by Schema: the least a handler written in this codebase's
 * style (services and layers, Schema at the boundary, settings from the environment) pulls in.
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Schema from "effect/Schema"

const Event = Schema.Struct({ Records: Schema.Array(Schema.Struct({ eventName: Schema.String })) })

class Settings extends Context.Service<Settings, { readonly table: string }>()("effectFloor/Settings") {}

const Environment = Schema.Struct({ TABLE: Schema.String.pipe(Schema.withDecodingDefault(Effect.succeed("CustProfile"))) })

const runtime = ManagedRuntime.make(
  Layer.effect(Settings, Effect.map(Schema.decodeUnknownEffect(Environment)(process.env), (env) => ({ table: env.TABLE })))
)

export const handler = (event: unknown) =>
  runtime.runPromise(Effect.gen(function*() {
    yield* Settings
    return yield* Schema.decodeUnknownEffect(Event)(event)
  }))
