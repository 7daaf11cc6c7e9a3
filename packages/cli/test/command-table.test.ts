// The command table against the commands it loads: `strata --help` lists each command with
// the summary the command's own `--help` prints, grouped, and each command's `--help`
// describes every option and gives an example (the CLI's convention).
import { describe, expect, it } from "vitest";
import { commandTable, main } from "../src/main.ts";

/** Commands whose `--help` does not describe every option with an example yet: remove a name once it does. */

describe("the command table", () => {
  for (const [name, entry] of Object.entries(commandTable)) {
    it(`${name}: the table's summary is the command's`, async () => {
      expect((await entry.load()).summary).toBe(entry.summary);
    });

    it(`${name} --help: every option described, an example`, async () => {
      const c = await entry.load();
      const undescribed = Object.keys(c.options).filter((k) => !c.optionHelp?.[k]);
      expect(undescribed, "options without optionHelp").toEqual([]);
      // The example: a command line in the details (the usage line above them is not one).
      expect(c.details ? await c.details() : "").toMatch(new RegExp(`(strata|stratactl) ${name}\\b|npm start`));
    });
  }

  it("strata help <command> is strata <command> --help", async () => {
    expect(await captured(["help", "verify"])).toEqual(await captured(["verify", "--help"]));
  });

  it("strata --help lists every command once, under its group, and says how to get a command's help", async () => {
    const { code, text } = await captured(["--help"]);
    expect(code).toBe(0);
    const headings = [...text.matchAll(/^(\S.*):$/gm)].map((m) => m[1]!);
    expect(headings.map((h) => h.split(" (")[0])).toEqual(["Block tools", "Bucket tools", "Pipeline"]);
    for (const [name, e] of Object.entries(commandTable))
      expect(text.match(new RegExp(`^ {2}${name} +(.*)$`, "gm")), name).toEqual([expect.stringContaining(e.summary)]);
    expect(text).toContain("strata <command> --help");
  });
});

/** `main(argv)` in-process, with what it wrote to stdout. */
async function captured(argv: string[]): Promise<{ code: number; text: string }> {
  const out: string[] = [];
  const write = process.stdout.write;
  process.stdout.write = ((s: string) => out.push(s) > 0) as typeof process.stdout.write;
  try {
    const code = await main(argv);
    return { code, text: out.join("") };
  } finally {
    process.stdout.write = write;
  }
}
