/**
 * The flags of commands that change something: `--yes` agrees beforehand to changes that destroy or
 * displace what provision did not create (on a terminal they are asked for; without one, only `--yes`
 * lets them happen), and `--plan` (provision, teardown) prints what would change and changes nothing.
 */
import { Confirm } from "@dyna/tools/Confirm"

/** `--yes`, accepted by every command that can change something, so scripts can pass it uniformly. */
export const yesFlag = { yes: { type: "boolean", short: "y", default: false } } as const

export const planFlag = { plan: { type: "boolean", default: false } } as const

export const yesUsage = `  --yes, -y           agree beforehand to changes that destroy or displace what provision did not
                      create (asked for on a terminal; without one, refused unless --yes)`

export const planUsage = `  --plan              print every change, step by step, and change nothing (describe/get/list calls only)`

/** Who answers a confirmation: `--yes`, else a person on the terminal, else no one (refused). */
export const confirmLayer = (yes: boolean | undefined) => Confirm.layerFor(yes === true)
