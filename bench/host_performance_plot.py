#!/usr/bin/env python3
"""Draws bench/host_performance.sh's results as an SVG (standard library only).

  host_performance_plot.py host_performance.json out.svg

Two panels on a log scale, one group of bars per model: prefill tokens/s
(llama.cpp and the JIT) under the compute roofs (FP32 FMA, BF16 dot, int8
VNNI peaks measured in the same run / the FLOP of one prefill token), and
decode tokens/s under the read-bandwidth roof (the decode bound). Bars are
medians; the whisker spans the runs' min-max.
"""

import json
import math
import sys
from xml.sax.saxutils import escape

W, H = 1080, 475
PANEL_W, TOP, BOTTOM = 440, 60, 360
COLORS = {"llama.cpp": "#8c8c8c", "jit": "#1f77b4"}
ROOF_COLORS = {"fp32": "#ff7f0e", "bf16": "#9467bd", "int8": "#2ca02c", "bw": "#d62728"}


def num(v):
    """A compact label: 3 significant digits, k/M suffixes."""
    for div, suffix in ((1e6, "M"), (1e3, "k")):
        if v >= div:
            return "%.3g%s" % (v / div, suffix)
    return "%.3g" % v


def size(nbytes):
    return "%.2f GB" % (nbytes / 1e9) if nbytes >= 1e8 else "%.1f MB" % (nbytes / 1e6)


def short(name):
    return name[:-5] if name.endswith(".gguf") else name


def panel(out, x0, title, models, test, roofs, lo, hi):
    def y(v):
        v = max(v, lo)
        return BOTTOM - (math.log10(v) - math.log10(lo)) / (math.log10(hi) - math.log10(lo)) * (
            BOTTOM - TOP)

    out.append('<text x="%d" y="%d" font-size="15" font-weight="bold">%s</text>'
               % (x0, TOP - 25, escape(title)))
    out.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>' % (x0, TOP, x0, BOTTOM))
    out.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>'
               % (x0, BOTTOM, x0 + PANEL_W, BOTTOM))
    e = math.floor(math.log10(lo))
    while 10 ** e <= hi:
        v = 10 ** e
        if v >= lo:
            out.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#e0e0e0"/>'
                       % (x0, y(v), x0 + PANEL_W, y(v)))
            out.append('<text x="%d" y="%.1f" font-size="11" text-anchor="end">%s</text>'
                       % (x0 - 4, y(v) + 4, num(v)))
        e += 1
    out.append('<text x="%d" y="%d" font-size="11" transform="rotate(-90 %d %d)" '
               'text-anchor="middle">tokens/s (log)</text>'
               % (x0 - 42, (TOP + BOTTOM) // 2, x0 - 42, (TOP + BOTTOM) // 2))
    n = len(models)
    gw = PANEL_W / max(n, 1)
    for i, row in enumerate(models):
        gx = x0 + i * gw
        bw = min(28, gw / 4)
        for j, engine in enumerate(("llama.cpp", "jit")):
            s = row[engine].get(test)
            bx = gx + gw / 2 - bw + j * bw
            if not s:
                continue
            out.append('<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"/>'
                       % (bx, y(s["median"]), bw - 2, BOTTOM - y(s["median"]), COLORS[engine]))
            cx = bx + (bw - 2) / 2
            out.append('<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="black"/>'
                       % (cx, y(s["max"]), cx, y(s["min"])))
            out.append('<text x="%.1f" y="%.1f" font-size="10" text-anchor="middle">%s</text>'
                       % (cx, y(s["max"]) - 3, num(s["median"])))
        for key, color, label in roofs:
            v = row.get(key)
            if v is None:
                continue
            out.append('<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" '
                       'stroke-width="2" stroke-dasharray="5,3"/>'
                       % (gx + 4, y(v), gx + gw - 4, y(v), color))
            out.append('<text x="%.1f" y="%.1f" font-size="9" fill="%s" text-anchor="end">'
                       '%s %s</text>' % (gx + gw - 4, y(v) - 2, color, label, num(v)))
        # The name on two lines (model / weight type) so that groups do not overlap.
        name = short(row["model"]["name"])
        head, _, tail = name.rpartition("-")
        lines = [head, tail] if head else [name]
        for k, text in enumerate(lines + [size(row["model"]["file_bytes"])]):
            out.append('<text x="%.1f" y="%d" font-size="%d" text-anchor="middle" fill="%s">'
                       '%s</text>' % (gx + gw / 2, BOTTOM + 15 + 13 * k,
                                      10 if k == len(lines) else 11,
                                      "#555" if k == len(lines) else "black", escape(text)))


def main(argv):
    if len(argv) != 3:
        sys.stderr.write(__doc__)
        return 2
    with open(argv[1]) as f:
        result = json.load(f)
    meta, models = result["meta"], result["models"]
    values = []
    for row in models:
        for engine in ("llama.cpp", "jit"):
            for test in ("prefill", "decode"):
                s = row[engine].get(test)
                if s:
                    values += [s["min"], s["max"]]
        for key in ("decode_bound_ts", "prefill_roof_ts_fp32", "prefill_roof_ts_bf16",
                    "prefill_roof_ts_int8"):
            if key in row:
                values.append(row[key])
    if not values:
        values = [1, 10]
    lo = 10 ** math.floor(math.log10(min(values)))
    hi = 10 ** math.ceil(math.log10(max(values) * 1.3))
    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
           'font-family="sans-serif">' % (W, H),
           '<rect width="100%" height="100%" fill="white"/>']
    panel(out, 70, "Prefill pp%d (%d threads)" % (meta["n_prompt"], meta["threads"]), models,
          "prefill", [("prefill_roof_ts_fp32", ROOF_COLORS["fp32"], "FP32 FMA"),
                      ("prefill_roof_ts_bf16", ROOF_COLORS["bf16"], "BF16 dot"),
                      ("prefill_roof_ts_int8", ROOF_COLORS["int8"], "int8 VNNI")], lo, hi)
    panel(out, 70 + PANEL_W + 110, "Decode tg%d (%d threads)" % (meta["n_gen"], meta["threads"]),
          models, "decode", [("decode_bound_ts", ROOF_COLORS["bw"], "bandwidth")], lo, hi)
    ly = H - 40
    lx = 60
    for label, color, dashed in (("llama.cpp", COLORS["llama.cpp"], False),
                                 ("SMEPilot JIT", COLORS["jit"], False),
                                 ("roof: read bandwidth", ROOF_COLORS["bw"], True),
                                 ("roof: FP32 FMA", ROOF_COLORS["fp32"], True),
                                 ("roof: BF16 dot", ROOF_COLORS["bf16"], True),
                                 ("roof: int8 VNNI", ROOF_COLORS["int8"], True)):
        if dashed:
            out.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2" '
                       'stroke-dasharray="5,3"/>' % (lx, ly - 4, lx + 18, ly - 4, color))
        else:
            out.append('<rect x="%d" y="%d" width="18" height="10" fill="%s"/>'
                       % (lx, ly - 9, color))
        out.append('<text x="%d" y="%d" font-size="11">%s</text>' % (lx + 22, ly, escape(label)))
        lx += 150
    roofs = result.get("roofs", {})
    note = "%s; %s; read %.1f GB/s" % (meta["date"], meta["machine"].split(",")[0],
                                      roofs.get("read_gbs", float("nan")))
    out.append('<text x="60" y="%d" font-size="10" fill="#555">%s</text>'
               % (H - 15, escape(note)))
    out.append("</svg>")
    with open(argv[2], "w") as f:
        f.write("\n".join(out) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
