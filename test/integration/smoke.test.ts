import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";

describe("smoke", () => {
  it("serves /health", async () => {
    const response = await SELF.fetch("http://localhost/health");
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: "ok" });
  });
  it("serves /health/ready", async () => {
    const response = await SELF.fetch("http://localhost/health/ready");
    const body = await response.json();
    expect(body).toMatchObject({ status: "ready" });
  });
});
