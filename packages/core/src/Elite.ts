/**
 * The Elite rule: the only place a customer's status is decided.
 *
 * @since 0.1.0
 */
import type { Status } from "./Profile.js"

/**
 * Total spend, in whole dollars, from which a customer is Elite.
 *
 * @since 0.1.0
 * @category constants
 */
export const THRESHOLD_DOLLARS = 1000

/**
 * The status a customer with this total spend holds: `Elite` from {@link THRESHOLD_DOLLARS} up.
 *
 * @since 0.1.0
 * @category rules
 */
export const statusFor = (totalDollars: number): Status => (totalDollars >= THRESHOLD_DOLLARS ? "Elite" : "Normal")
