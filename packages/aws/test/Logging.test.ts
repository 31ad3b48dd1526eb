import * as Environment from "../src/Environment.js"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as References from "effect/References"
import { assert, describe, it } from "vitest"
import * as Logging from "../src/Logging.js"

const levelWith = (env: Record<string, string>) =>
  Effect.runPromise(
    Effect.gen(function*() {
      return yield* References.MinimumLogLevel
    }).pipe(Effect.provide(Logging.layer.pipe(Layer.provide(Environment.layer(env)))))
  )

describe("Logging", () => {
  it("reads LOG_LEVEL in any case, defaulting to Info", async () => {
    assert.strictEqual(await levelWith({}), "Info")
    assert.strictEqual(await levelWith({ LOG_LEVEL: "DEBUG" }), "Debug")
    assert.strictEqual(await levelWith({ LOG_LEVEL: "warn" }), "Warn")
  })

  it("rejects an unknown level, naming the valid ones", async () => {
    const error = await levelWith({ LOG_LEVEL: "LOUD" }).then(() => undefined, (e: unknown) => String(e))
    assert.include(error, "Debug")
  })
})
