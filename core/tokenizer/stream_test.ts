import { assertEquals } from "@std/assert";
import { streamDecoderFrom } from "./stream.ts";

Deno.test("streamDecoderFrom: context-dependent decoders stream the same text as a whole decode", () => {
  // A Metaspace-like decoder: the leading space of the whole text is dropped. Decoding token by token would lose
  // the space before "world"; the stream keeps the previous token as context.
  const pieces = [" Hello", " world", "!", " \u00e9"];
  const decode = (ids: number[]) => ids.map((i) => pieces[i]).join("").replace(/^ /, "");
  const stream = streamDecoderFrom(decode);
  assertEquals([0, 1, 2, 3].map((i) => stream.push(i)), ["Hello", " world", "!", " \u00e9"]);
  assertEquals(stream.flush(), "");
});

Deno.test("streamDecoderFrom: holds text ending in U+FFFD until it completes", () => {
  // Token 0 is the first byte of "é" (decodes to U+FFFD alone), token 1 the second byte.
  const bytes = [[0xc3], [0xa9], [0x61]];
  const decode = (ids: number[]) => new TextDecoder().decode(new Uint8Array(ids.flatMap((i) => bytes[i])));
  const stream = streamDecoderFrom(decode);
  assertEquals([stream.push(0), stream.push(1), stream.push(2)], ["", "\u00e9", "a"]);
  assertEquals([stream.push(0), stream.flush()], ["", "\uFFFD"]);
  assertEquals(stream.push(2), "a"); // flush reset the state
});
