import { assert, describe, it } from "vitest"
import * as Attention from "../src/Attention.js"

const STREAM = "arn:aws:dynamodb:us-east-1:123456789012:table/CustTransactions/stream/2024-01-01T00:00:00.000"

const tables = (missing: ReadonlyArray<string> = []): ReadonlyArray<Attention.Table> =>
  ([["transactions", "CustTransactions"], ["profiles", "CustProfile"], ["quarantine", "CustTransactionsRejected"], ["events", "CustEliteEvents"]] as const)
    .map(([role, name]) => ({ role, name, exists: !missing.includes(name) }))

const stream: Attention.Stream = { table: "CustTransactions", enabled: true, viewType: "NEW_IMAGE", arn: STREAM, status: "ENABLED", error: undefined }

const runner: Attention.LocalRunner = { _tag: "LocalRunner", pid: 42, streamArn: STREAM, status: { ageMillis: 800 }, stale: false }

const entry = (fields: Partial<Attention.MappingEntry> = {}): Attention.MappingEntry => ({
  uuid: "m-1",
  current: true,
  state: "Enabled",
  stateTransitionReason: undefined,
  lastProcessingResult: "OK",
  ...fields
})

const aws = (fields: Partial<Attention.AwsMapping> = {}): Attention.AwsMapping => ({
  _tag: "AwsMapping",
  functionName: "fn",
  function: { runtime: "nodejs24.x", state: "Active" },
  mappings: [entry()],
  error: undefined,
  ...fields
})

const caughtUp: Attention.Lag = { _tag: "Measured", oldestAgeMillis: undefined, resolutionMillis: 60_000 }

/** A local stack where all is well, changed by `fields`. */
const local = (fields: Partial<Attention.Facts> = {}): Attention.Facts => ({ tables: tables(), stream, mapping: runner, lag: caughtUp, ...fields })

const tags = (facts: Attention.Facts) => Attention.of(facts).map((p) => p._tag)

describe("Attention.of", () => {
  it("finds nothing when all is well, locally and on AWS", () => {
    assert.deepStrictEqual(Attention.of(local()), [])
    assert.deepStrictEqual(Attention.of(local({ mapping: aws(), lag: { _tag: "Unavailable" } })), [])
  })

  it("names every missing table, and looks at the stream only when the transactions table exists", () => {
    assert.deepStrictEqual(Attention.of(local({ tables: tables(["CustTransactionsRejected", "CustEliteEvents"]) })), [
      { _tag: "TableMissing", table: "CustTransactionsRejected" },
      { _tag: "TableMissing", table: "CustEliteEvents" }
    ])
    const noStream = { ...stream, enabled: false, viewType: undefined, arn: undefined, status: undefined }
    assert.deepStrictEqual(tags(local({ tables: tables(["CustTransactions"]), stream: noStream })), ["TableMissing"])
  })

  it("says the first thing wrong with the stream: absent, the wrong images, unreadable, not enabled", () => {
    assert.deepStrictEqual(Attention.of(local({ stream: { ...stream, enabled: false, viewType: undefined, arn: undefined } })), [
      { _tag: "NoStream", table: "CustTransactions" }
    ])
    assert.deepStrictEqual(Attention.of(local({ stream: { ...stream, viewType: "KEYS_ONLY", error: "denied" } })), [
      { _tag: "NotNewImages", table: "CustTransactions", viewType: "KEYS_ONLY" }
    ])
    assert.deepStrictEqual(Attention.of(local({ stream: { ...stream, viewType: "NEW_AND_OLD_IMAGES", error: "denied", status: "DISABLED" } })), [
      { _tag: "StreamUnreadable", error: "denied" }
    ])
    assert.deepStrictEqual(Attention.of(local({ stream: { ...stream, status: "ENABLING" } })), [{ _tag: "StreamNotEnabled", status: "ENABLING" }])
  })

  it("says whether the local runner runs, reports, keeps reporting, and reads the current stream", () => {
    assert.deepStrictEqual(Attention.of(local({ mapping: { ...runner, pid: undefined, status: undefined } })), [{ _tag: "RunnerNotRunning" }])
    assert.deepStrictEqual(Attention.of(local({ mapping: { ...runner, status: undefined } })), [{ _tag: "RunnerSilent", pid: 42 }])
    assert.deepStrictEqual(Attention.of(local({ mapping: { ...runner, status: { ageMillis: 180_000 }, stale: true } })), [
      { _tag: "RunnerStale", pid: 42, ageMillis: 180_000 }
    ])
    assert.deepStrictEqual(Attention.of(local({ mapping: { ...runner, pid: undefined, streamArn: `${STREAM}-old` } })), [
      { _tag: "RunnerNotRunning" },
      { _tag: "RunnerOnReplacedStream", streamArn: `${STREAM}-old` }
    ])
    // Before the first provision the runner names no stream, and without a stream there is nothing to compare.
    assert.deepStrictEqual(Attention.of(local({ mapping: { ...runner, streamArn: undefined } })), [])
  })

  it("on AWS: an unreadable function, a missing one, a missing mapping, one not Enabled or failing, ones on a replaced stream", () => {
    assert.deepStrictEqual(Attention.of(local({ mapping: aws({ error: "denied", function: undefined }) })), [{ _tag: "MappingUnreadable", error: "denied" }])
    assert.deepStrictEqual(Attention.of(local({ mapping: aws({ function: undefined, mappings: [] }) })), [{ _tag: "FunctionMissing", functionName: "fn" }])
    assert.deepStrictEqual(Attention.of(local({ mapping: aws({ mappings: [entry({ uuid: "old", current: false }), entry({ uuid: "older", current: false })] }) })), [
      { _tag: "NoMapping", functionName: "fn" },
      { _tag: "MappingsOnReplacedStream", functionName: "fn", count: 2 }
    ])
    // Without a stream, no mapping is expected on it.
    assert.deepStrictEqual(tags(local({ stream: { ...stream, enabled: false, arn: undefined }, mapping: aws({ mappings: [] }) })), ["NoStream"])
    const broken = entry({ state: "Disabled", stateTransitionReason: "User action", lastProcessingResult: "PROBLEM: Function call failed" })
    assert.deepStrictEqual(Attention.of(local({ mapping: aws({ mappings: [broken] }) })), [
      { _tag: "MappingNotEnabled", uuid: "m-1", state: "Disabled", reason: "User action" },
      { _tag: "MappingFailing", uuid: "m-1", result: "PROBLEM: Function call failed" }
    ])
    assert.deepStrictEqual(tags(local({ mapping: aws({ mappings: [entry({ lastProcessingResult: "No records processed" })] }) })), [])
  })

  it("counts records as waiting too long only once they certainly have, whatever the stamps' resolution", () => {
    const waited = (oldestAgeMillis: number, resolutionMillis: number) =>
      Attention.of(local({ lag: { _tag: "Measured", oldestAgeMillis, resolutionMillis } }))
    // Stamped to the minute, two minutes less a moment could be a moment.
    assert.deepStrictEqual(waited(119_999, 60_000), [])
    assert.deepStrictEqual(waited(120_000, 60_000), [{ _tag: "RecordsWaiting", certainlyMillis: Attention.STUCK_AFTER_MILLIS }])
    assert.deepStrictEqual(waited(61_000, 1_000), [{ _tag: "RecordsWaiting", certainlyMillis: 60_000 }])
    assert.deepStrictEqual(waited(60_999, 1_000), [])
    assert.deepStrictEqual(Attention.of(local({ lag: { _tag: "Unavailable" } })), [])
  })

  it("lists problems in screen order: tables, stream, reader, lag", () => {
    const all = local({
      tables: tables(["CustEliteEvents"]),
      stream: { ...stream, status: "DISABLING" },
      mapping: { ...runner, pid: undefined },
      lag: { _tag: "Measured", oldestAgeMillis: 600_000, resolutionMillis: 60_000 }
    })
    assert.deepStrictEqual(tags(all), ["TableMissing", "StreamNotEnabled", "RunnerNotRunning", "RecordsWaiting"])
  })
})

describe("Attention.isStale", () => {
  it("calls a runner stale once its report is older than STALE_AFTER_MILLIS, or of no readable age", () => {
    assert.deepStrictEqual([0, Attention.STALE_AFTER_MILLIS, Attention.STALE_AFTER_MILLIS + 1, Number.NaN].map(Attention.isStale), [false, false, true, true])
  })
})
