import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { assert, describe, it } from "vitest"
import * as Environment from "../src/Environment.js"

const run = <A, E>(effect: Effect.Effect<A, E>, variables: Environment.Variables) =>
  Effect.runPromise(Effect.result(effect.pipe(Effect.provide(Environment.layer(variables)))))

const Days = Schema.Struct({
  DAYS: Schema.FiniteFromString.check(Schema.isInt()).pipe(Schema.withDecodingDefault(Effect.succeed("30")))
})

describe("Environment", () => {
  it("decodes settings with their defaults, and names the variable and its value when one is wrong", async () => {
    const decoded = await run(Environment.decode(Days), {})
    assert.deepStrictEqual(decoded._tag === "Success" ? decoded.success : undefined, { DAYS: 30 })
    const wrong = await run(Environment.decode(Days), { DAYS: "2.5" })
    assert.strictEqual(wrong._tag, "Failure")
    if (wrong._tag === "Failure") {
      assert.strictEqual(wrong.failure.variable, "DAYS")
      assert.include(wrong.failure.message, `DAYS="2.5": `)
    }
  })

  it("counts a variable set to nothing as unset, for a default and for a required one", async () => {
    const fallback = await run(Environment.orDefault("AWS_REGION", "us-east-1"), { AWS_REGION: " " })
    assert.deepStrictEqual(fallback._tag === "Success" ? fallback.success : undefined, "us-east-1")
    const missing = await run(Environment.required("AWS_REGION", "no AWS region configured"), { AWS_REGION: "" })
    assert.strictEqual(missing._tag === "Failure" ? missing.failure.message : undefined, "no AWS region configured")
  })

  it("merges later layers over earlier ones, and an empty value hides nothing", () => {
    assert.deepStrictEqual(
      Environment.merge({ A: "default", B: "default" }, { A: "shell", B: "" }, { C: "flag", A: undefined }),
      { A: "shell", B: "default", C: "flag" }
    )
  })

  it("is process.env when no layer gives other variables", async () => {
    const read = await Effect.runPromise(Environment.optional("PATH"))
    assert.strictEqual(read, process.env.PATH)
  })
})
