import * as Effect from "effect/Effect"
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, assert, describe, it } from "vitest"
import * as Checkpoints from "../src/local/Checkpoints.js"

const arn = "arn:aws:dynamodb:ddblocal:000000000000:table/t/stream/2026-01-01T00:00:00.000"
const root = mkdtempSync(join(tmpdir(), "checkpoints-test-"))
afterAll(() => rmSync(root, { recursive: true, force: true }))
const folder = () => mkdtempSync(join(root, "case-"))

describe("Checkpoints", () => {
  it("starts empty when there is no file yet", async () => {
    assert.deepStrictEqual(await Effect.runPromise(Checkpoints.load(join(folder(), "none.json"))), Checkpoints.empty)
  })

  it("reads back what it wrote, and leaves no temporary file behind", async () => {
    const dir = folder()
    const file = join(dir, "nested", "checkpoints.json")
    const state = Checkpoints.finish(
      Checkpoints.advance(Checkpoints.advance(Checkpoints.empty, arn, "shard-a", "000000000000000000007"), arn, "shard-b", "000000000000000000009"),
      arn,
      "shard-a"
    )
    await Effect.runPromise(Checkpoints.save(file, state))
    assert.deepStrictEqual(await Effect.runPromise(Checkpoints.load(file)), state)
    assert.deepStrictEqual(readdirSync(join(dir, "nested")), ["checkpoints.json"])
    assert.deepStrictEqual(Checkpoints.get(state, arn, "shard-a"), { sequenceNumber: "000000000000000000007", finished: true })
    assert.deepStrictEqual([...Checkpoints.finished(state, arn)], ["shard-a"])
  })

  it("only moves forward, comparing sequence numbers as numbers", () => {
    // As strings "900…" would come after "1000…"; as numbers it comes before.
    const at = Checkpoints.advance(Checkpoints.empty, arn, "s", "1000000000000000000010")
    assert.strictEqual(Checkpoints.advance(at, arn, "s", "900000000000000000002"), at)
    assert.strictEqual(Checkpoints.get(Checkpoints.advance(at, arn, "s", "1000000000000000000011"), arn, "s")?.sequenceNumber, "1000000000000000000011")
  })

  it("refuses a file that is not a checkpoint file rather than start over", async () => {
    const file = join(folder(), "checkpoints.json")
    writeFileSync(file, JSON.stringify({ streams: { [arn]: { s: { sequenceNumber: "twelve", finished: false } } } }))
    const error = await Effect.runPromise(Effect.flip(Checkpoints.load(file)))
    assert.strictEqual(error._tag, "CheckpointError")
    assert.include(error.message, file)
    assert.isTrue(existsSync(file))
  })
})
