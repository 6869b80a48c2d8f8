// Setup file (vitest.config.ts): fails a test file whose responses broke their operation's declared
// content types. Responses are recorded by the shared request helpers (postJson, authedFetch,
// checkedFetch in auth.ts; callApp in app-env.ts): SELF is a proxy whose fetch cannot be wrapped.
import { afterAll, expect } from "vitest";
import { contentTypeMismatches } from "./declared-content-types";

afterAll(() => {
  expect(contentTypeMismatches, "responses whose content type their operation does not declare").toEqual([]);
});
