/**
 * `@dyna/core`: the pure part of Dyna Elite — schemas for stream records and table items, the Elite
 * rule and batch planning. No AWS SDK, no I/O.
 *
 * @since 0.1.0
 */

/** @since 0.1.0 */
export * as AppliedIds from "./AppliedIds.js"
/** @since 0.1.0 */
export * as AppliedLog from "./AppliedLog.js"
/** @since 0.1.0 */
export * as AppliedPages from "./AppliedPages.js"
/** @since 0.1.0 */
export * as Attention from "./Attention.js"
/** @since 0.1.0 */
export * as BatchResult from "./BatchResult.js"
/** @since 0.1.0 */
export * as Csv from "./Csv.js"
/** @since 0.1.0 */
export * as Drift from "./Drift.js"
/** @since 0.1.0 */
export * as Elite from "./Elite.js"
/** @since 0.1.0 */
export * as EliteList from "./EliteList.js"
/** @since 0.1.0 */
export * as Events from "./Events.js"
/** @since 0.1.0 */
export * as Integers from "./Integers.js"
/** @since 0.1.0 */
export * as Issue from "./Issue.js"
/** @since 0.1.0 */
export * as Plan from "./Plan.js"
/** @since 0.1.0 */
export * as Profile from "./Profile.js"
/** @since 0.1.0 */
export * as ProfileUpdate from "./ProfileUpdate.js"
/** @since 0.1.0 */
export * as Promotion from "./Promotion.js"
/** @since 0.1.0 */
export * as RecountBatch from "./RecountBatch.js"
/** @since 0.1.0 */
export * as StreamRecord from "./StreamRecord.js"
/** @since 0.1.0 */
export * as Transaction from "./Transaction.js"
/** @since 0.1.0 */
export * as Verdict from "./Verdict.js"

/**
 * The Elite rule, also at the top level: `import { statusFor } from "@dyna/core"`.
 *
 * @since 0.1.0
 */
export { statusFor, THRESHOLD_DOLLARS } from "./Elite.js"
