import { assertEquals } from "@std/assert";
import { HTTPException } from "hono/http-exception";
import { ApiError, errorResponse, toApiError } from "./errors.ts";

Deno.test("errorResponse: ApiError keeps its status and fields", async () => {
  const res = errorResponse(new ApiError(400, "bad n", { param: "n", code: "invalid_value" }));
  assertEquals(res.status, 400);
  assertEquals(res.headers.get("content-type"), "application/json; charset=utf-8");
  assertEquals(await res.json(), {
    error: { message: "bad n", type: "invalid_request_error", param: "n", code: "invalid_value" },
  });
});

Deno.test("toApiError: unknown errors become a bare 500 without details", () => {
  const e = toApiError(new TypeError("secret internals at foo.ts:12"));
  assertEquals(e.status, 500);
  assertEquals(e.message, "internal server error");
  assertEquals(toApiError(new HTTPException(413)).status, 413);
  assertEquals(toApiError(new HTTPException(400, { message: "Malformed" })).message, "Malformed");
});
