import { assert, describe, it } from "vitest"
import * as Shards from "../src/local/Shards.js"

const parent: Shards.Shard = { shardId: "shardId-parent" }
const child: Shards.Shard = { shardId: "shardId-child", parentShardId: "shardId-parent" }
const grandchild: Shards.Shard = { shardId: "shardId-grandchild", parentShardId: "shardId-child" }
const ids = (shards: ReadonlyArray<Shards.Shard>) => shards.map((s) => s.shardId)

describe("Shards.readyToRead", () => {
  it("starts a parent and holds its child back until the parent is finished", () => {
    const stream = [parent, child, grandchild]
    assert.deepStrictEqual(ids(Shards.readyToRead(stream, new Set(), new Set())), ["shardId-parent"])
    assert.deepStrictEqual(ids(Shards.readyToRead(stream, new Set(), new Set(["shardId-parent"]))), [])
    assert.deepStrictEqual(ids(Shards.readyToRead(stream, new Set(["shardId-parent"]), new Set(["shardId-parent"]))), [
      "shardId-child"
    ])
    assert.deepStrictEqual(ids(Shards.readyToRead(stream, new Set(["shardId-parent", "shardId-child"]), new Set())), [
      "shardId-grandchild"
    ])
  })

  it("reads a child whose parent has left the stream", () => {
    assert.deepStrictEqual(ids(Shards.readyToRead([child, grandchild], new Set(), new Set())), ["shardId-child"])
  })

  it("never starts a shard twice nor one already finished", () => {
    const other = { shardId: "shardId-other" }
    assert.deepStrictEqual(ids(Shards.readyToRead([parent, other], new Set(["shardId-other"]), new Set(["shardId-parent"]))), [])
  })
})
