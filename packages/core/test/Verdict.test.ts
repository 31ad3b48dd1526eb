import { assert, describe, it } from "vitest"
import * as Verdict from "../src/Verdict.js"

describe("Verdict.of", () => {
  it("quarantines a transaction that would take the total past 2^53 - 1, saying so", () => {
    assert.deepStrictEqual(Verdict.of({ _tag: "Overflow", tnValue: 5 }), {
      _tag: "Quarantine",
      field: "TnValue",
      reason: "TnValue: 5 would take TotalTnValue past 2^53 - 1, where sums stop being exact"
    })
  })

  it("quarantines the records of an unreadable profile under the profile's field at fault", () => {
    const message = "CustProfile c-1 cannot be read: TotalTnValue is not a number"
    assert.deepStrictEqual(Verdict.of({ _tag: "UnreadableProfile", field: "TotalTnValue", message }), {
      _tag: "Quarantine",
      field: "CustProfile.TotalTnValue",
      reason: message
    })
  })

  it("quarantines the records of a profile past DynamoDB's item limit under its applied log", () => {
    const message = "CustProfile c-1 would pass DynamoDB's 400 KB item limit with 3 transaction ids in its applied log"
    assert.deepStrictEqual(Verdict.of({ _tag: "ProfileTooLarge", message }), {
      _tag: "Quarantine",
      field: "CustProfile.AppliedTn",
      reason: message
    })
  })

  it("delivers again what a lost race or a DynamoDB failure kept from being counted", () => {
    assert.deepStrictEqual(
      [Verdict.of({ _tag: "LostRace", message: "kept changing" }), Verdict.of({ _tag: "DynamoDbError", message: "throttled" })],
      [{ _tag: "Retry" }, { _tag: "Retry" }]
    )
  })
})
