// Runs last in scripts/test.sh: the whole suite, passing or failing, left nothing of ours behind.
import { test } from "node:test";
import { assertNoLeaks } from "./helpers/leaks.js";

test("the suite leaves no loop device, mount, dm table, process or temp dir behind", () => {
  assertNoLeaks();
});
