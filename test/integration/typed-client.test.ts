import { describe, expect, it } from "vitest";
import { createEdgeAuthClient } from "../../clients/typescript/src";
import { callApp } from "../helpers/app-env";
import { randomIp, STRONG_PASSWORD, uniqueEmail } from "../helpers/auth";
import { PNG } from "./files-fixtures";

/**
 * The generated client (clients/typescript, `npm run client:generate`) against the real worker:
 * a new user's first session, every call typed from /openapi.json. `npm test` also fails when the
 * committed types drift from the document (scripts/client.mjs --check).
 */
describe("typed client (openapi-typescript + openapi-fetch)", () => {
  it("registers, verifies through the dev mailbox, logs in, reads /users/me, refreshes and uploads", async () => {
    const ip = randomIp();
    // As on a developer's machine (`npm start`): the dev mailbox exists only in development.
    const api = createEdgeAuthClient("http://localhost", { fetch: (request) => callApp(request, undefined, { env: { ENVIRONMENT: "development" } }), headers: { "CF-Connecting-IP": ip } });
    const email = uniqueEmail("typed-client");

    const registered = await api.POST("/api/v1/auth/register", { body: { email, password: STRONG_PASSWORD, first_name: "Ada", last_name: "Lovelace" } });
    expect(registered.response.status).toBe(202);

    let token: string | undefined;
    for (let attempt = 0; attempt < 50 && !token; attempt++) {
      const mailbox = await api.GET("/api/v1/dev/mailbox", { params: { query: { to: email } } });
      token = /[?&]token=([A-Za-z0-9_-]+)/.exec(mailbox.data?.items[0]?.text ?? "")?.[1];
      if (!token) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(token).toBeTruthy();
    const verified = await api.POST("/api/v1/auth/verify-email", { body: { token: token ?? "" } });
    expect(verified.response.status).toBe(204);

    const answer = await api.POST("/api/v1/auth/login", { body: { email, password: STRONG_PASSWORD } });
    expect(answer.error).toBeUndefined();
    // The typed union: tokens, or an mfa_required step for an account with a second factor.
    const login = { data: answer.data && !("status" in answer.data) ? answer.data : undefined };
    expect(login.data).toBeDefined();
    api.setAccessToken(login.data?.access_token);

    const me = await api.GET("/api/v1/users/me");
    expect(me.data?.email).toBe(email);
    expect(me.data?.roles).toEqual(["user"]);

    const refreshed = await api.POST("/api/v1/auth/refresh", { body: { refresh_token: login.data?.refresh_token ?? "" } });
    expect(refreshed.data?.refresh_token).not.toBe(login.data?.refresh_token);
    api.setAccessToken(refreshed.data?.access_token);

    const uploaded = await api.POST("/api/v1/files", {
      body: { file: "" },
      bodySerializer: () => {
        const form = new FormData();
        form.append("file", new File([PNG], "pixel.png", { type: "image/png" }));
        return form;
      },
    });
    expect(uploaded.response.status).toBe(201);
    expect(uploaded.data).toMatchObject({ name: "pixel.png", content_type: "image/png", size: PNG.byteLength });

    // Errors come back typed as the documented problem.
    api.setAccessToken(undefined);
    const anonymous = await api.GET("/api/v1/users/me");
    expect(anonymous.error).toMatchObject({ status: 401, code: "unauthorized" });
  });
});
