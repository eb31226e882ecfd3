import { assertEquals, assertThrows } from "@std/assert";
import { Hono } from "hono";
import { bearerAuth, timingSafeEqual } from "./auth.ts";
import { errorResponse } from "./errors.ts";

Deno.test("timingSafeEqual: equal only for identical strings", () => {
  assertEquals(timingSafeEqual("secret", "secret"), true);
  assertEquals(timingSafeEqual("secret", "secreT"), false);
  assertEquals(timingSafeEqual("secret", "secret2"), false);
  assertEquals(timingSafeEqual("", "a"), false);
  assertEquals(timingSafeEqual("", ""), true);
});

Deno.test("bearerAuth: missing and wrong keys are 401 in OpenAI's shape; the right key passes", async () => {
  const app = new Hono();
  app.onError((err) => errorResponse(err));
  app.use("*", bearerAuth("k1"));
  app.get("/", (c) => c.text("ok"));
  const missing = await app.request("/");
  assertEquals(missing.status, 401);
  assertEquals((await missing.json()).error.code, "missing_api_key");
  const wrong = await app.request("/", { headers: { authorization: "Bearer k2" } });
  assertEquals(wrong.status, 401);
  assertEquals((await wrong.json()).error.type, "authentication_error");
  const right = await app.request("/", { headers: { authorization: "bearer k1" } });
  assertEquals(await right.text(), "ok");
  assertThrows(() => bearerAuth(""), Error, "must not be empty");
});
