import { defineProject } from "vitest/config"

export default defineProject({
  // Workspace packages resolve to their TypeScript sources (see their "source" export condition).
  resolve: { conditions: ["source"] },
  ssr: { resolve: { conditions: ["source"] } },
  test: { name: "core", include: ["test/**/*.test.ts"] }
})
