/**
 * The one-line progress report of training and sampling: a bar, step/total,
 * rate, elapsed time, ETA and caller fields (epoch, loss), fitted to the
 * terminal width by dropping the least useful parts first.
 */

export interface ProgressState {
  step: number;
  total: number;
  /** ms, performance.now(), when this run started. */
  startedAt: number;
  /** Shown in order as "key value" (e.g. epoch, loss). */
  fields?: Record<string, string>;
  /** The step this run started from (a resumed run), so the rate and ETA count only its own steps. Default 0. */
  startStep?: number;
  /**
   * Where the rate and the ETA are measured from (default: `startStep` at `startedAt`; elapsed
   * always runs from `startedAt`). A run's first step also compiles its kernels on a new
   * machine, minutes that say nothing about the steps after it, so callers move this to their
   * first reported step.
   */
  rateFrom?: { step: number; at: number };
}

/** Bar cells between the "|" brackets: fewer is not worth showing, more is only noise. */
const BAR_MIN = 10;
const BAR_MAX = 40;
const SEPARATOR = "  ";
const PARTIAL_BLOCKS = " ▏▎▍▌▋▊▉";

/** m:ss, or h:mm:ss from an hour up. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const ss = String(s % 60).padStart(2, "0");
  const m = Math.floor(s / 60);
  return m < 60 ? `${m}:${ss}` : `${Math.floor(m / 60)}:${String(m % 60).padStart(2, "0")}:${ss}`;
}

/** About three significant digits: 123, 12.3, 1.23. */
function formatRate(v: number): string {
  return v.toFixed(v >= 100 ? 0 : v >= 10 ? 1 : 2);
}

function bar(fraction: number, cells: number): string {
  const eighths = Math.floor(fraction * cells * 8);
  const full = Math.floor(eighths / 8);
  const partial = full < cells ? PARTIAL_BLOCKS[eighths % 8] : "";
  return `${Math.floor(fraction * 100)}%`.padStart(4) + " |" +
    "█".repeat(full) + partial + " ".repeat(cells - full - partial.length) + "|";
}

/**
 * One line: " 42% |████▏     |   420/1000  7.00 it/s  elapsed 1:00  ETA 1:23  loss 0.031".
 * The rate is steps per second of this run, labelled "it/s" (shown as "s/it"
 * below 1 it/s), unless the caller passes its own `rate` and `unit` label (e.g.
 * images/s as unit "img/s"); the ETA always follows the step rate. `now`
 * (ms, default performance.now()) exists for tests. Never wider than `width`:
 * the bar takes the room left (10–40 cells) and parts are dropped in the order
 * elapsed, rate, bar, fields (last first), ETA; step/total is cut only when it
 * alone is too wide.
 */
export function formatProgress(
  s: ProgressState,
  opts: { width: number; unit?: string; rate?: number; now?: number },
): string {
  const now = opts.now ?? performance.now();
  const elapsed = Math.max(0, (now - s.startedAt) / 1000);
  const fraction = s.total > 0 ? Math.min(1, Math.max(0, s.step / s.total)) : 0;
  const from = s.rateFrom ?? { step: s.startStep ?? 0, at: s.startedAt };
  const rateSeconds = (now - from.at) / 1000;
  const stepsDone = s.step - from.step;
  const stepRate = rateSeconds > 0 && stepsDone > 0 ? stepsDone / rateSeconds : 0;

  let rate: string;
  const shown = opts.rate ?? stepRate;
  if (!(shown > 0)) rate = `? ${opts.unit ?? "it/s"}`;
  else if (opts.unit === undefined && shown < 1) rate = `${formatRate(1 / shown)} s/it`;
  else rate = `${formatRate(shown)} ${opts.unit ?? "it/s"}`;

  let eta = "?";
  if (s.step >= s.total) eta = "0:00";
  else if (stepRate > 0) eta = formatDuration(Math.ceil((s.total - s.step) / stepRate));

  const count = `${String(s.step).padStart(String(s.total).length)}/${s.total}`;
  const fields = Object.entries(s.fields ?? {}).map(([key, value]) => `${key} ${value}`);
  // Display order; `keep` ranks what survives a narrow terminal (higher stays longer).
  const parts = [
    { text: bar(0, BAR_MIN), keep: 3, isBar: true }, // at its narrowest until the room is known
    { text: count, keep: Infinity, isBar: false },
    { text: rate, keep: 2, isBar: false },
    { text: `elapsed ${formatDuration(elapsed)}`, keep: 1, isBar: false },
    { text: `ETA ${eta}`, keep: 4 + fields.length, isBar: false },
    ...fields.map((text, i) => ({ text, keep: 4 + fields.length - 1 - i, isBar: false })),
  ];
  let chosen = [...parts];
  const total = () =>
    chosen.reduce((sum, p) => sum + p.text.length, 0) + SEPARATOR.length * (chosen.length - 1);
  const byKeep = [...parts].sort((a, b) => a.keep - b.keep);
  while (total() > opts.width && chosen.length > 1) {
    const drop = byKeep.shift();
    chosen = chosen.filter((p) => p !== drop);
  }
  if (chosen.length === 1) return count.slice(0, Math.max(0, opts.width));

  const barCells = Math.min(BAR_MAX, BAR_MIN + opts.width - total());
  return chosen.map((p) => p.isBar ? bar(fraction, barCells) : p.text).join(SEPARATOR);
}

const STARTING = "starting… (a machine's first run compiles the GPU kernels first, once: " +
  "up to minutes)";

/**
 * The status line until a run's first frame. On a machine's first run the first step also
 * compiles every GPU kernel (on llvmpipe about 17 s before `sample` draws anything and two
 * minutes before `train` logs; several times that on Mesa 25), and the compile blocks the event
 * loop throughout (a timer set to draw a counter fired only after it), so without this line
 * the terminal stays blank. Cut to `width`.
 */
export const formatStarting = (width: number): string => STARTING.slice(0, Math.max(0, width));
