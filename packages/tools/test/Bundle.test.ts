/**
 * The artifact's esbuild target: the deployed function's follows its Lambda runtime, the local runner's
 * the Node that runs it; and the function's bundle is byte for byte what the oldest supported Node (20)
 * would get, so the local stack on Node 20 runs the very file that ships; and it holds nothing only the
 * tools use.
 */
import * as Effect from "effect/Effect"
import { assert, describe, it } from "vitest"
import { functionSettings } from "@dyna/aws/Deployment"
import * as Bundle from "../src/provision/Bundle.js"

describe("Bundle", () => {
  it("targets the Node of the function's runtime", () => {
    assert.strictEqual(Bundle.targetOf("nodejs24.x"), "node24")
    assert.strictEqual(Bundle.targetOf("nodejs22.x"), "node22")
    assert.strictEqual(Bundle.functionTarget, Bundle.targetOf(functionSettings.runtime))
    assert.strictEqual(Bundle.options.target, Bundle.functionTarget)
  })

  it("builds the runner for the Node running here", () => {
    assert.strictEqual(Bundle.localTarget, `node${process.versions.node}`)
  })

  it("changes no byte of the function against a Node 20 target, so it runs locally on Node 20 too", async () => {
    const [deployed, node20] = await Promise.all([
      Effect.runPromise(Bundle.bundle(Bundle.handlerEntry)),
      Effect.runPromise(Bundle.bundle(Bundle.handlerEntry, "node20"))
    ])
    // If this fails, the sources use syntax esbuild lowers for Node 20 but not for the runtime's Node:
    // the local stack on Node 20 would load a file that Lambda's Node parses and Node 20 may not.
    assert.isTrue(Buffer.from(deployed.code).equals(Buffer.from(node20.code)), "the function's bundle differs between node20 and " + Bundle.functionTarget)
  })

  it("leaves out what only the tools use: the recounts and the rows they read", async () => {
    const { contents } = await Effect.runPromise(Bundle.bundle(Bundle.handlerEntry))
    const files = Object.values(contents.outputs).flatMap((output) => Object.keys(output.inputs))
    assert.isTrue(files.some((file) => file.endsWith("aws/src/ProfileStore.ts")), "the bundle holds the handler's ProfileStore")
    // AppLayer names them only inside `operations`, a function the handler never calls.
    for (const module of ["aws/src/Recount.ts", "aws/src/ProfileRecount.ts", "aws/src/TransactionStore.ts", "core/src/RecountBatch.ts"]) {
      assert.isFalse(files.some((file) => file.endsWith(module)), `${module} is in the function's bundle`)
    }
  })
})
