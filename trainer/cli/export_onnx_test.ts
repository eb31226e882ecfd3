import { assertEquals } from "@std/assert";
import { main } from "./export_onnx.ts";

const FIXTURE = new URL("../model/testdata/hf_saved/v5_untied_f32", import.meta.url).pathname;

Deno.test("export-onnx: a transformers-saved (sharded) folder gets its model.onnx; bad flags exit 2", async () => {
  const dir = await Deno.makeTempDir({ prefix: "export_onnx_" });
  try {
    for await (const e of Deno.readDir(FIXTURE)) {
      await Deno.copyFile(`${FIXTURE}/${e.name}`, `${dir}/${e.name}`);
    }
    assertEquals(await main(["--model", dir, "--max-positions", "32"]), 0);
    assertEquals((await Deno.stat(`${dir}/model.onnx`)).isFile, true);
    assertEquals(await main([]), 2);
    assertEquals(await main(["--model", dir, "--max-positions", "0"]), 2);
    assertEquals(await main(["--model", `${dir}/missing`]), 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
