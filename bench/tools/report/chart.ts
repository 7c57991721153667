/**
 * The chart: tsaio against the best peer and CPython, one bar group per case, as a vega-lite spec
 * rendered to SVG headlessly (`renderer: "none"`), so that neither a browser nor the `canvas`
 * package is needed.
 * @module
 */
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import type { SuiteResult, SystemResult } from "../../suite/model.js";
import { fmtRatio } from "./format.js";

// ------------------------------------------------------------------------------------ chart

type Series = "tsaio" | "best peer" | "CPython";
interface Bar {
  label: string;
  series: Series;
  system: string;
  value: number;
  text: string;
}

const SERIES: Series[] = ["tsaio", "best peer", "CPython"];
const COLOURS = ["#4c78a8", "#f58518", "#54a24b"];
const FONT = "Helvetica, Arial, sans-serif";
const BAR_LABEL_SIZE = 10;

/** Helvetica's advance widths (per 1000 em) for ASCII 32–126, from its AFM metrics. */
const HELVETICA = [
  278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556, 556, 556, 556, 556, 556,
  556, 556, 278, 278, 584, 584, 584, 556, 1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778,
  667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556, 333, 556, 556, 500, 556, 556, 278, 556,
  556, 222, 222, 500, 222, 833, 556, 556, 556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584,
];
const WIDE: Record<string, number> = { "×": 584, "÷": 584, "—": 1000, "–": 556, "…": 1000, "≤": 549, "≥": 549, "µ": 556 };

/**
 * Text width in px. Without the `canvas` package vega estimates every character as 0.8 em, which
 * makes axes far too wide and truncates labels that would fit; a per-character table is close
 * enough for Helvetica/Arial (what the SVG asks for).
 */
function textWidth(text: string, fontSize: number, bold = false): number {
  let units = 0;
  for (const ch of text) {
    const code = ch.codePointAt(0) ?? 0;
    units += code >= 32 && code <= 126 ? HELVETICA[code - 32] : (WIDE[ch] ?? 556);
  }
  return (units / 1000) * fontSize * (bold ? 1.08 : 1);
}

/** The slice of vega-scenegraph's runtime `textMetrics` this module replaces (not in vega's types). */
interface TextItem {
  fontSize?: number | string;
  fontWeight?: number | string;
}
interface TextMetrics {
  width: (item: TextItem, text: unknown) => number;
}

function itemWidth(item: TextItem, text: unknown): number {
  const size = item.fontSize != null ? Number(item.fontSize) || 0 : 11;
  const bold = item.fontWeight === "bold" || Number(item.fontWeight) >= 600;
  const lines = Array.isArray(text) ? text.map(String) : [text == null ? "" : String(text).trim()];
  return Math.max(0, ...lines.map((l) => textWidth(l, size, bold)));
}

function shortTitle(title: string, max = 34): string {
  return title.length <= max ? title : `${title.slice(0, max - 1).trimEnd()}…`;
}

function chartBars(r: SuiteResult): Bar[] {
  const bars: Bar[] = [];
  for (const w of r.workloads) {
    for (const c of w.cases) {
      const tsaio = c.systems.find((s) => s.kind === "tsaio");
      if (tsaio === undefined) continue;
      const label = `${c.id} ${shortTitle(c.title)}`;
      const add = (series: Series, s: SystemResult | undefined): void => {
        // A log scale cannot show 0, negatives or NaN: leave such a bar out rather than break the chart.
        if (s === undefined || !Number.isFinite(s.vsFloor) || s.vsFloor <= 0) return;
        bars.push({ label, series, system: s.name, value: s.vsFloor, text: `${s.name} ${fmtRatio(s.vsFloor)}` });
      };
      add("tsaio", tsaio);
      let peer: SystemResult | undefined;
      for (const s of c.systems) if (s.kind === "peer" && (peer === undefined || s.median < peer.median)) peer = s;
      add("best peer", peer);
      add("CPython", c.systems.find((s) => s.kind === "python"));
    }
  }
  return bars;
}

function chartSpec(r: SuiteResult, bars: readonly Bar[], quick: boolean): TopLevelSpec {
  const labels = [...new Set(bars.map((b) => b.label))];
  const width = 620;
  const height = Math.max(120, labels.length * 45);
  // Log domain in decades: include 1 (the floor rule) with some room below it, and stretch the top
  // until every bar's text label (drawn right of the bar's end) fits inside the plot.
  const lo = Math.log10(Math.min(1, ...bars.map((b) => b.value)) / 1.3);
  let hi = Math.log10(Math.max(1, ...bars.map((b) => b.value))) + 0.05;
  for (const b of bars) {
    const room = width - 6 - textWidth(b.text, BAR_LABEL_SIZE);
    if (room > width / 4) hi = Math.max(hi, lo + ((Math.log10(b.value) - lo) * width) / room);
  }
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: {
      text: `tsaio vs the best peer (time, or bytes in W2b, ÷ hand-written floor; lower is better) — Node ${r.node}${quick ? " (quick run)" : ""}`,
      fontSize: 14,
      anchor: "start",
      frame: "bounds",
      offset: 14,
    },
    width,
    height,
    background: "white",
    // Extra room on the left: the axis labels are measured in Helvetica, and a viewer that falls back to a wider font must not clip them.
    padding: { left: 60, right: 10, top: 10, bottom: 10 },
    config: {
      font: FONT,
      axis: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: "normal" },
      legend: { labelFontSize: 11, titleFontSize: 12 },
      view: { stroke: "#ccc" },
    },
    layer: [
      {
        data: { values: bars.map((b) => ({ ...b })) },
        encoding: {
          y: { field: "label", type: "nominal", sort: labels, title: null, axis: { labelLimit: 320, labelFontSize: 11, ticks: false } },
          yOffset: { field: "series", type: "nominal", sort: SERIES, scale: { domain: SERIES } },
          x: {
            field: "value",
            type: "quantitative",
            title: "time relative to the hand-written floor (log scale; lower is better)",
            scale: { type: "log", domain: [10 ** lo, 10 ** hi], nice: false, clamp: true },
            axis: { format: "~g", grid: true, tickCount: 10 },
          },
        },
        layer: [
          {
            mark: { type: "bar", height: { band: 0.85 } },
            encoding: {
              color: {
                field: "series",
                type: "nominal",
                title: null,
                scale: { domain: SERIES, range: COLOURS },
                legend: { orient: "bottom", direction: "horizontal", symbolType: "square" },
              },
            },
          },
          {
            mark: { type: "text", align: "left", baseline: "middle", dx: 3, fontSize: BAR_LABEL_SIZE, color: "#333" },
            encoding: { text: { field: "text", type: "nominal" } },
          },
        ],
      },
      {
        // The floor: a dashed rule at 1 across the whole plot, labelled just above it (clear of the bars).
        data: { values: [{ x: 1 }] },
        layer: [
          { mark: { type: "rule", color: "#222", strokeDash: [4, 3], strokeWidth: 1.5 }, encoding: { x: { field: "x", type: "quantitative" } } },
          {
            mark: { type: "text", text: "floor", align: "center", baseline: "bottom", dy: -3, fontSize: 11, fontWeight: "bold", color: "#222" },
            encoding: { x: { field: "x", type: "quantitative" }, y: { value: 0 } },
          },
        ],
      },
    ],
  };
}

export async function renderSvg(r: SuiteResult, quick: boolean): Promise<string> {
  const bars = chartBars(r);
  if (bars.length === 0) {
    // Nothing comparable (no tsaio side anywhere): a valid, readable placeholder beats no file.
    return `<svg xmlns="http://www.w3.org/2000/svg" width="600" height="40"><text x="10" y="25" font-family="${FONT}">No tsaio results for Node ${r.node}.</text></svg>\n`;
  }
  const spec = compile(chartSpec(r, bars, quick)).spec;
  // textMetrics is exported at run time but missing from vega's type declarations.
  const metrics = (vega as unknown as { textMetrics?: TextMetrics }).textMetrics;
  const saved = metrics?.width;
  if (metrics !== undefined) metrics.width = itemWidth;
  // renderer "none": no DOM and no canvas; toSVG still renders the whole scenegraph to SVG markup.
  const view = new vega.View(vega.parse(spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
    if (metrics !== undefined && saved !== undefined) metrics.width = saved;
  }
}
