import * as Result from "effect/Result"
import { assert, describe, it } from "vitest"
import * as Profile from "../src/Profile.js"

describe("Profile.fromItem", () => {
  it("reads our attributes and ignores the Jam's others", () => {
    const item = {
      CustID: { S: "c-1" },
      FirstName: { S: "Ada" },
      TotalTnValue: { N: "1200" },
      CustStatus: { S: "Elite" },
      AppliedTn: { M: { "7": { N: "1800000000" } } },
      ProfileVersion: { N: "4" }
    }
    const profile = Result.getOrThrow(Profile.fromItem("c-1", item))
    assert.strictEqual(profile.totalTnValue, 1200)
    assert.strictEqual(profile.custStatus, "Elite")
    assert.strictEqual(profile.version, 4)
    assert.deepStrictEqual([...profile.applied], [["7", 1800000000]])
  })

  it("reads the applied log as we write it, one string, and as earlier builds wrote it, a map", () => {
    const read = (AppliedTn: unknown) => [...Result.getOrThrow(Profile.fromItem("c-1", { CustID: { S: "c-1" }, AppliedTn })).applied]
    assert.deepStrictEqual(read({ S: "1800000000:7;1800000060:8+1" }), [["7", 1800000000], ["8", 1800000060], ["9", 1800000060]])
    assert.deepStrictEqual(read({ M: { "7": { N: "1800000000" } } }), [["7", 1800000000]])
    assert.deepStrictEqual(read({ S: "" }), [])
  })

  it("names a log string it cannot read", () => {
    const result = Profile.fromItem("c-4", { CustID: { S: "c-4" }, AppliedTn: { S: "yesterday:7" } })
    assert.isTrue(Result.isFailure(result))
    if (Result.isFailure(result)) {
      assert.strictEqual(result.failure.field, "AppliedTn.S")
      assert.match(result.failure.message, /^CustProfile item c-4 is unreadable: AppliedTn\.S "yesterday:7" does not start with a time/)
    }
  })

  it("reads a bare Jam profile as a zero total without a version", () => {
    const profile = Result.getOrThrow(Profile.fromItem("c-2", { CustID: { S: "c-2" }, Email: { S: "x@y" } }))
    assert.strictEqual(profile.totalTnValue, 0)
    assert.strictEqual(profile.version, undefined)
  })

  it("names the attribute of an unreadable profile", () => {
    const result = Profile.fromItem("c-3", { CustID: { S: "c-3" }, TotalTnValue: { N: "12.5" } })
    assert.isTrue(Result.isFailure(result))
    if (Result.isFailure(result)) {
      assert.strictEqual(result.failure.field, "TotalTnValue.N")
      assert.include(result.failure.message, "c-3")
    }
  })
})
