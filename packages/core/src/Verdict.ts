/**
 * What becomes of records that could not be counted: set aside in the quarantine with a reason, when
 * no retry can mend them, or delivered again, when one may. The adapter does the I/O; this decides.
 *
 * @since 0.1.0
 */

/**
 * Why records could not be counted, as the adapter tells it: one transaction past what a total can
 * hold exactly, or the failure of a customer's profile write (each by its error's tag and message).
 *
 * @since 0.1.0
 * @category models
 */
export type Failure =
  /** The transaction would take the customer's total past `Number.MAX_SAFE_INTEGER`. */
  | { readonly _tag: "Overflow"; readonly tnValue: number }
  /** The stored profile cannot be read; `field` is the attribute at fault. */
  | { readonly _tag: "UnreadableProfile"; readonly field: string; readonly message: string }
  /** The profile would pass DynamoDB's 400 KB item limit. */
  | { readonly _tag: "ProfileTooLarge"; readonly message: string }
  /** Other writers kept changing the profile, past their retries. */
  | { readonly _tag: "LostRace"; readonly message: string }
  /** DynamoDB refused or failed the call (throttled, unreachable, denied). */
  | { readonly _tag: "DynamoDbError"; readonly message: string }

/**
 * Set the records aside: `field` is what is at fault, `reason` what an operator reads in the quarantine.
 *
 * @since 0.1.0
 * @category models
 */
export interface Quarantine {
  readonly _tag: "Quarantine"
  readonly field: string
  readonly reason: string
}

/**
 * Deliver the records again: the failure may pass.
 *
 * @since 0.1.0
 * @category models
 */
export interface Retry {
  readonly _tag: "Retry"
}

/**
 * @since 0.1.0
 * @category models
 */
export type Verdict = Quarantine | Retry

/**
 * The verdict on a failure. A record or profile at fault stays at fault however often it is delivered,
 * so its records wait in the quarantine; a race or a DynamoDB failure may pass, so they come again.
 *
 * @since 0.1.0
 * @category rules
 */
export const of = (failure: Failure): Verdict => {
  switch (failure._tag) {
    case "Overflow":
      return {
        _tag: "Quarantine",
        field: "TnValue",
        reason: `TnValue: ${failure.tnValue} would take TotalTnValue past 2^53 - 1, where sums stop being exact`
      }
    case "UnreadableProfile":
      return { _tag: "Quarantine", field: `CustProfile.${failure.field}`, reason: failure.message }
    case "ProfileTooLarge":
      return { _tag: "Quarantine", field: "CustProfile.AppliedTn", reason: failure.message }
    case "LostRace":
    case "DynamoDbError":
      return { _tag: "Retry" }
  }
}
