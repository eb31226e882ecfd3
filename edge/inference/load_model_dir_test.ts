import { assertEquals } from "@std/assert";
import { folderName } from "./load_model_dir.ts";

Deno.test("folderName: the folder's name, or the run's name for a training run's checkpoint/", () => {
  assertEquals(folderName("/models/qwen2.5-0.5b"), "qwen2.5-0.5b");
  assertEquals(folderName("/models/qwen2.5-0.5b/"), "qwen2.5-0.5b");
  assertEquals(folderName("runs/tiny-oreal-s1/checkpoint"), "tiny-oreal-s1");
  assertEquals(folderName("runs/tiny-oreal-s1/checkpoint/"), "tiny-oreal-s1");
  assertEquals(folderName("checkpoint"), "checkpoint");
  assertEquals(folderName("C:\\models\\m1"), "m1");
  assertEquals(folderName("/"), "model");
});
