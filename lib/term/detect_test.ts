import { deepStrictEqual, ok } from "node:assert/strict";
import { fileURLToPath } from "node:url";
import {
  ASSUMED_CELL,
  cellSize,
  chooseProtocol,
  detectDisplay,
  firstQuery,
  parseReplies,
} from "./detect.ts";
import { KITTY_QUERY } from "./kitty.ts";

const env = (vars: Record<string, string>) => ({ get: (key: string) => vars[key] });

// Replies as terminals send them.
const KITTY_OK = "\x1b_Gi=31;OK\x1b\\";
const XTERM_VT340_DA1 = "\x1b[?63;1;2;4;6;9;15;16;22;28c"; // xterm -ti vt340 (measured here)
const XTERM_DA1 = "\x1b[?64;1;2;6;9;15;16;17;18;21;22;28c"; // xterm's default VT420 (no 4)
const TMUX_SIXEL_DA1 = "\x1b[?1;2;4c";

Deno.test("detection table: environment and replies → protocol", () => {
  const table: [Record<string, string>, string, string][] = [
    [{ TERM: "xterm-kitty" }, "", "kitty"],
    [{ TERM: "xterm-256color", KITTY_WINDOW_ID: "1" }, "", "kitty"],
    [{ TERM: "xterm-ghostty" }, "", "kitty"],
    [{ TERM_PROGRAM: "ghostty", TERM: "xterm-256color" }, "", "kitty"],
    [{ TERM_PROGRAM: "iTerm.app" }, "", "iterm"],
    [{ LC_TERMINAL: "iTerm2", TERM: "xterm-256color" }, "", "iterm"],
    [{ TERM_PROGRAM: "WezTerm" }, KITTY_OK + XTERM_VT340_DA1, "iterm"], // the environment first
    [{ TERM: "foot" }, "", "sixel"],
    [{ TERM: "mlterm" }, "", "sixel"],
    // Only the replies tell: Konsole answers kitty's query; xterm in VT340 mode and VS Code
    // (images on) announce sixel; xterm's default does not; a silent terminal gets blocks.
    [{ TERM: "xterm-256color", KONSOLE_VERSION: "230800" }, KITTY_OK + XTERM_DA1, "kitty"],
    [{ TERM: "xterm" }, XTERM_VT340_DA1, "sixel"],
    [{ TERM_PROGRAM: "vscode", TERM: "xterm-256color" }, "\x1b[?62;4;22c", "sixel"],
    [{ TERM: "xterm" }, XTERM_DA1, "blocks"],
    [{ TERM: "xterm-256color" }, "", "blocks"],
    // Inside tmux or screen the outer terminal's variables do not count, nor does kitty.
    [
      { TMUX: "/tmp/tmux-0/default,1,0", TERM: "tmux-256color", KITTY_WINDOW_ID: "1" },
      XTERM_DA1,
      "blocks",
    ],
    [{ TMUX: "/tmp/tmux-0/default,1,0", TERM: "tmux-256color" }, TMUX_SIXEL_DA1, "sixel"],
    [{ STY: "1.pts-0", TERM: "screen", LC_TERMINAL: "iTerm2" }, XTERM_DA1, "blocks"],
  ];
  for (const [vars, replies, expected] of table) {
    deepStrictEqual(
      chooseProtocol(env(vars), parseReplies(replies)),
      expected,
      `${JSON.stringify(vars)} ${JSON.stringify(replies)}`,
    );
  }
});

Deno.test("replies parsed; the cell size from the best source there is", () => {
  const xtermAllowed = "\x1b[6;13;6t\x1b[4;312;480t" + XTERM_VT340_DA1; // window ops allowed
  const r = parseReplies(xtermAllowed);
  deepStrictEqual([r.answered, r.kitty, r.sixel, r.cell, r.window], [true, false, true, {
    width: 6,
    height: 13,
  }, { width: 480, height: 312 }]);
  const size = { columns: 80, rows: 24 };
  deepStrictEqual(cellSize(r, size), { width: 6, height: 13 });
  // xterm's default: no window reports, but XTSMGRAPHICS gives 1024 registers and the
  // graphics area, 480×312 over 80×24 cells = 6×13.
  const sixel = parseReplies("\x1b[?1;0;1024S\x1b[?2;0;480;312S" + XTERM_VT340_DA1);
  deepStrictEqual([sixel.registers, sixel.sixelArea], [1024, { width: 480, height: 312 }]);
  deepStrictEqual(cellSize(sixel, size), { width: 6, height: 13 });
  // Only a window size: 1600×960 over 80×24 = 20×40.
  deepStrictEqual(cellSize(parseReplies("\x1b[4;960;1600t"), size), { width: 20, height: 40 });
  // Nothing, or nonsense (a zero-sized window): the assumed cell.
  deepStrictEqual(cellSize(parseReplies(""), size), ASSUMED_CELL);
  deepStrictEqual(cellSize(parseReplies("\x1b[6;0;0t\x1b[4;0;0t"), size), ASSUMED_CELL);
  deepStrictEqual(parseReplies("").answered, false);
});

Deno.test("the first query asks kitty only outside a multiplexer, and ends with CSI c", () => {
  deepStrictEqual(firstQuery(false), `${KITTY_QUERY}\x1b[16t\x1b[14t\x1b[c`);
  deepStrictEqual(firstQuery(true), "\x1b[16t\x1b[14t\x1b[c");
});

Deno.test("auto off a terminal, NO_COLOR, TERM=dumb: no pictures, no queries", async () => {
  const pipe = { isTerminal: () => false };
  const tty = { isTerminal: () => true };
  const size = { columns: 80, rows: 24 };
  const auto = (out: typeof pipe, vars: Record<string, string>) =>
    detectDisplay("auto", { out, env: env(vars), size });
  deepStrictEqual((await auto(pipe, { TERM: "xterm-kitty" })).protocol, "none");
  const quiet: Record<string, string>[] = [{ NO_COLOR: "1", TERM: "xterm-kitty" }, {
    TERM: "dumb",
  }];
  for (const vars of quiet) {
    const d = await auto(tty, vars); // returns before asking the terminal
    deepStrictEqual([d.protocol, d.color], ["none", "none"]);
  }
  // An explicit protocol is obeyed in a pipe (the cell size is then assumed).
  const forced = await detectDisplay("sixel", { out: pipe, env: env({ NO_COLOR: "1" }), size });
  deepStrictEqual([forced.protocol, forced.color, forced.cell], ["sixel", "256", ASSUMED_CELL]);
  const blocks = await detectDisplay("blocks", {
    out: pipe,
    env: env({ COLORTERM: "truecolor" }),
    size,
  });
  deepStrictEqual([blocks.protocol, blocks.color], ["blocks", "truecolor"]);
  deepStrictEqual((await detectDisplay("none", { out: tty, env: env({}), size })).protocol, "none");
});

const DETECT = fileURLToPath(new URL("./detect.ts", import.meta.url));

/** A program that detects the display on its terminal and prints what it found and how long it took. */
const probe = (timeoutMs: number) =>
  `import { detectDisplay } from "${DETECT}";
const t0 = performance.now();
const d = await detectDisplay("auto", { timeoutMs: ${timeoutMs} });
console.log("RESULT" + JSON.stringify({ ...d, ms: Math.round(performance.now() - t0) }));`;

const has = (command: string, args: string[]) =>
  new Deno.Command(command, { args, stdout: "null", stderr: "null" }).output().then(
    (o) => o.success,
    () => false,
  );

Deno.test({
  name: "a terminal that never answers: half-blocks after the timeout, and the process ends",
  ignore: !(await has("script", ["--version"])),
  async fn() {
    // `script` gives the program a real pseudo-terminal, and nothing on the other side answers.
    const started = performance.now();
    const run = await new Deno.Command("script", {
      args: ["-qec", `'${Deno.execPath()}' eval '${probe(400)}'`, "/dev/null"],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      env: { TERM: "xterm-256color", COLORTERM: "truecolor", NO_COLOR: "" },
      signal: AbortSignal.timeout(30_000), // a hang fails the test instead of stalling it
    }).output();
    const wall = performance.now() - started;
    const text = new TextDecoder().decode(run.stdout);
    deepStrictEqual(run.code, 0, text + new TextDecoder().decode(run.stderr));
    const found = JSON.parse(text.slice(text.indexOf("RESULT") + 6));
    deepStrictEqual([found.protocol, found.color, found.cell], [
      "blocks",
      "truecolor",
      ASSUMED_CELL,
    ]);
    // It waited for the replies (the timeout), then gave up: no hang, no second round.
    ok(found.ms >= 400 && found.ms < 400 + 2000, `detection took ${found.ms} ms`);
    ok(wall < 30_000, `the program ended (${wall} ms)`);
    // The queries went out once, and nothing came back to be echoed.
    deepStrictEqual(text.split(firstQuery(false)).length, 2, JSON.stringify(text));
  },
});

const hasXvfb = await has("Xvfb", ["-help"]);

/**
 * Runs the probe inside a real terminal (`terminal` and its arguments) on a fresh Xvfb, with
 * the variables the terminal sets for its programs replaced by `childEnv`.
 */
async function inRealTerminal(terminal: string[], childEnv: string[] = []) {
  const display = ":97";
  const xvfb = new Deno.Command("Xvfb", {
    args: [display, "-screen", "0", "800x600x24"],
    stdout: "null",
    stderr: "null",
  }).spawn();
  const dir = await Deno.makeTempDir({ prefix: "detect-terminal-" });
  try {
    await new Promise((r) => setTimeout(r, 1000));
    const file = `${dir}/result.json`;
    const script = `${dir}/probe.ts`;
    await Deno.writeTextFile(
      script,
      probe(2000).replace('console.log("RESULT" + ', `await Deno.writeTextFile("${file}", `),
    );
    const run = await new Deno.Command(terminal[0], {
      args: [...terminal.slice(1), "env", "-u", "KITTY_WINDOW_ID", ...childEnv, Deno.execPath()]
        .concat(["run", "-A", script]),
      env: { DISPLAY: display },
      stdout: "null",
      stderr: "null",
    }).output();
    deepStrictEqual(run.code, 0);
    return JSON.parse(await Deno.readTextFile(file));
  } finally {
    xvfb.kill();
    await xvfb.status;
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test({
  name: "real xterm: sixel in VT340 mode (cell from its graphics area), blocks by default",
  ignore: !(hasXvfb && await has("xterm", ["-version"])),
  async fn() {
    const vt340 = await inRealTerminal(["xterm", "-ti", "vt340", "-e"]);
    deepStrictEqual(vt340.protocol, "sixel");
    ok(vt340.registers >= 16, `registers ${vt340.registers}`);
    // xterm's window reports are off: the cell is its graphics area over its 80×24 cells.
    ok(vt340.cell.width >= 4 && vt340.cell.height >= 8, JSON.stringify(vt340.cell));
    ok(vt340.ms < 2000, `xterm answered in ${vt340.ms} ms`);
    deepStrictEqual((await inRealTerminal(["xterm", "-e"])).protocol, "blocks");
  },
});

Deno.test({
  name: "real kitty, its variables removed: kitty from its reply to the graphics query",
  ignore: !(hasXvfb && await has("kitty", ["--version"])),
  async fn() {
    // TERM=xterm-256color: only the query can tell (kitty needs OpenGL: Mesa's llvmpipe here).
    const found = await inRealTerminal(["kitty", "-o", "remember_window_size=no"], [
      "TERM=xterm-256color",
    ]);
    deepStrictEqual(found.protocol, "kitty");
    ok(found.ms < 2000, `kitty answered in ${found.ms} ms`);
  },
});

Deno.test({
  name:
    "real tmux (no sixel in it): half-blocks, though the outer terminal's kitty variable leaks in",
  ignore: !(await has("tmux", ["-V"])),
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "detect-tmux-" });
    const socket = `detect-test-${Deno.pid}`;
    try {
      const file = `${dir}/result.json`;
      await Deno.writeTextFile(
        `${dir}/probe.ts`,
        probe(2000).replace('console.log("RESULT" + ', `await Deno.writeTextFile("${file}", `),
      );
      const command = `KITTY_WINDOW_ID=1 '${Deno.execPath()}' run -A '${dir}/probe.ts'; sleep 5`;
      const tmux = (...args: string[]) =>
        new Deno.Command("tmux", { args: ["-L", socket, ...args], stdout: "piped" }).output();
      deepStrictEqual((await tmux("new-session", "-d", "-x", "100", "-y", "30", command)).code, 0);
      let text = "";
      for (let i = 0; i < 100 && !text; i++) {
        await new Promise((r) => setTimeout(r, 100));
        text = await Deno.readTextFile(file).catch(() => "");
      }
      const found = JSON.parse(text);
      deepStrictEqual([found.protocol, found.tmux], ["blocks", true]);
      ok(found.ms < 2000, `tmux answered in ${found.ms} ms`);
      // No kitty query went in: tmux would have taken it for a window title.
      const title = new TextDecoder().decode(
        (await tmux("display-message", "-p", "#{pane_title}")).stdout,
      );
      ok(!title.includes("Gi=31"), title);
    } finally {
      await new Deno.Command("tmux", { args: ["-L", socket, "kill-server"], stderr: "null" })
        .output();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
