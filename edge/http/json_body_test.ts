import { assertEquals } from "@std/assert";
import { Hono } from "hono";
import { errorResponse, invalidParam } from "./errors.ts";
import { jsonBody } from "./json_body.ts";

function app(): Hono {
  const a = new Hono();
  a.onError((err) => errorResponse(err));
  a.post(
    "/",
    jsonBody((v) => {
      if (typeof v !== "object" || v === null || typeof (v as { x?: unknown }).x !== "number") {
        throw invalidParam("x", "x must be a number");
      }
      return v as { x: number };
    }),
    (c) => c.json({ double: c.req.valid("json").x * 2 }),
  );
  return a;
}

Deno.test("jsonBody: parses JSON whatever the content type", async () => {
  const res = await app().request("/", { method: "POST", body: '{"x":2}' });
  assertEquals(await res.json(), { double: 4 });
});

Deno.test("jsonBody: empty, malformed and invalid bodies are 400s", async () => {
  for (const body of ["", "{x:", "[1]"]) {
    const res = await app().request("/", { method: "POST", body });
    assertEquals(res.status, 400);
    const { error } = await res.json();
    assertEquals(typeof error.message, "string");
  }
  const bad = await app().request("/", { method: "POST", body: "{oops" });
  assertEquals((await bad.json()).error.code, "invalid_json");
});
