//===- RooflineReport.cpp - Roofline tables and chart
//------------------------===//
//
// Turns the decisions of smepilot-roofline-annotate into what people read: a
// per-op table (text and CSV), the same data as JSON for tools, and a Roofline
// chart as SVG (log-log: attainable GFLOP/s over FLOP/byte, one roof per unit
// and element type, every op a point at its intensity and predicted
// throughput, coloured by mode). The IR is left unchanged.
//
//===----------------------------------------------------------------------===//

#include "smepilot/Analysis/Roofline.h"
#include "smepilot/Dialect/SMEPilot/IR/Provenance.h"
#include "smepilot/Dialect/SMEPilot/Transforms/Passes.h"
#include "smepilot/Support/OutputFile.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>

namespace mlir::smepilot {
#define GEN_PASS_DEF_ROOFLINEREPORT
#include "smepilot/Dialect/SMEPilot/Transforms/Passes.h.inc"
} // namespace mlir::smepilot

using namespace mlir;
using namespace mlir::smepilot;

namespace {

struct Row {
  unsigned index;
  std::string function;
  std::string location;
  DecisionAttr d;
  double chosenUs() const {
    switch (d.getMode()) {
    case ExecMode::cpu:
      return d.getCpuUs();
    case ExecMode::sme:
      return d.getSmeUs();
    case ExecMode::collab:
      return d.getCollabUs();
    }
    return d.getCpuUs();
  }
};

std::string typeName(Type t) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << t;
  return s;
}

std::string locationOf(Operation *op) {
  std::string s;
  llvm::raw_string_ostream os(s);
  // The op's own location, inside its provenance record (Provenance.h).
  Location loc = withoutRecords(op->getLoc());
  if (auto l = dyn_cast<FileLineColLoc>(loc))
    os << llvm::sys::path::filename(l.getFilename().getValue()) << ":"
       << l.getLine();
  else if (auto n = dyn_cast<NameLoc>(loc))
    os << n.getName().getValue();
  return s;
}

std::string fmt(double v) {
  if (v < 0)
    return "-";
  return llvm::formatv("{0:F2}", v).str();
}

const char *kAssumptions[] = {
    "time = max(FLOPs / peak, bytes / bandwidth) per unit (Roofline)",
    "bytes are compulsory traffic: each operand moved once (perfect reuse)",
    "multiply-add = 2 FLOPs; division = 4; transcendental = 10 "
    "(in-kernel polynomial)",
    "matrix-unit compute scaled by tile utilization (SVL/32 x SVL/32 "
    "accumulator tiles; K padded to 2 for bf16/f16, 4 for i8)",
    "gathers and unvectorizable ops run one lane at a time on the vector cores",
    "collab: each side streams its share of the weights and all activations "
    "from the shared bandwidth, plus the profile's sync overhead",
    "predictions, not measurements: this machine has no matrix unit",
};

void writeText(llvm::raw_ostream &os, TargetAttr target, ArrayRef<Row> rows) {
  os << "SMEPilot Roofline report, profile '" << target.getName() << "' ("
     << target.getArch() << ", " << target.getVectorCores() << " vector cores, "
     << target.getMatrixUnits() << " matrix unit(s)";
  if (target.hasMatrixUnit())
    os << ", SVL " << target.getSvlBits();
  os << ", " << fmt(target.getMemBwGbps()) << " GB/s)\n\n";
  os << llvm::formatv("{0,4} {1,-14} {2,-12} {3,-6} {4,12} {5,12} {6,10} "
                      "{7,10} {8,10} {9,10} {10,-6} {11,6} {12,-7} {13}\n",
                      "#", "op", "class", "elem", "flops", "bytes", "flop/B",
                      "cpu_us", "sme_us", "collab_us", "mode", "sme%", "bound",
                      "where")
            .str();
  double total = 0, allCpu = 0;
  unsigned counts[3] = {0, 0, 0};
  for (const Row &r : rows) {
    const DecisionAttr &d = r.d;
    std::string mode = stringifyExecMode(d.getMode()).str();
    if (d.getReason() == "forced")
      mode += "*";
    os << llvm::formatv("{0,4} {1,-14} {2,-12} {3,-6} {4,12} {5,12} {6,10} "
                        "{7,10} {8,10} {9,10} {10,-6} {11,6} {12,-7} {13}\n",
                        r.index, d.getKind(), d.getShapeClass(),
                        typeName(d.getElem()), d.getFlops(), d.getTotalBytes(),
                        fmt(d.getIntensity()), fmt(d.getCpuUs()),
                        fmt(d.getSmeUs()), fmt(d.getCollabUs()), mode,
                        llvm::formatv("{0:F0}", d.getSmeFraction() * 100).str(),
                        d.getBound(), r.function + " " + r.location)
              .str();
    total += r.chosenUs();
    allCpu += d.getCpuUs();
    counts[static_cast<unsigned>(d.getMode())]++;
  }
  os << "\nops: " << rows.size() << " (cpu " << counts[0] << ", sme "
     << counts[1] << ", collab " << counts[2] << "); * = forced\n";
  os << "predicted time: " << fmt(total) << " us with these modes, "
     << fmt(allCpu) << " us all on the vector cores";
  if (total > 0)
    os << llvm::formatv(" (x{0:F2})", allCpu / total).str();
  os << "\n\nmodel assumptions:\n";
  for (const char *a : kAssumptions)
    os << "  - " << a << "\n";
  bool anyAssumed = false;
  for (const Row &r : rows)
    if (!r.d.getAssumed().empty()) {
      if (!anyAssumed)
        os << "dynamic sizes assumed:\n";
      anyAssumed = true;
      os << "  #" << r.index << ": " << r.d.getAssumed() << "\n";
    }
}

std::string csvField(StringRef s) {
  if (s.find_first_of(",\"\n") == StringRef::npos)
    return s.str();
  std::string out = "\"";
  for (char c : s) {
    if (c == '"')
      out += '"';
    out += c;
  }
  return out + "\"";
}

void writeCsv(llvm::raw_ostream &os, ArrayRef<Row> rows) {
  os << "index,function,location,kind,shape_class,elem,flops,weight_bytes,"
        "act_bytes,intensity,cpu_us,sme_us,collab_us,mode,sme_fraction,bound,"
        "vectorization,reason,assumed\n";
  for (const Row &r : rows) {
    const DecisionAttr &d = r.d;
    os << r.index << "," << csvField(r.function) << "," << csvField(r.location)
       << "," << csvField(d.getKind()) << "," << d.getShapeClass() << ","
       << typeName(d.getElem()) << "," << d.getFlops() << ","
       << d.getWeightBytes() << "," << d.getActBytes() << ","
       << d.getIntensity() << "," << d.getCpuUs() << "," << d.getSmeUs() << ","
       << d.getCollabUs() << "," << stringifyExecMode(d.getMode()) << ","
       << d.getSmeFraction() << "," << d.getBound() << ","
       << d.getVectorization() << "," << d.getReason() << ","
       << csvField(d.getAssumed()) << "\n";
  }
}

void writeJson(llvm::raw_ostream &os, TargetAttr target, ArrayRef<Row> rows) {
  llvm::json::Array ops;
  for (const Row &r : rows) {
    const DecisionAttr &d = r.d;
    ops.push_back(llvm::json::Object{
        {"index", r.index},
        {"function", r.function},
        {"location", r.location},
        {"kind", d.getKind()},
        {"shape_class", d.getShapeClass()},
        {"elem", typeName(d.getElem())},
        {"flops", static_cast<int64_t>(d.getFlops())},
        {"weight_bytes", static_cast<int64_t>(d.getWeightBytes())},
        {"act_bytes", static_cast<int64_t>(d.getActBytes())},
        {"intensity", double(d.getIntensity())},
        {"cpu_us", double(d.getCpuUs())},
        {"sme_us", double(d.getSmeUs())},
        {"collab_us", double(d.getCollabUs())},
        {"mode", stringifyExecMode(d.getMode())},
        {"sme_fraction", double(d.getSmeFraction())},
        {"bound", d.getBound()},
        {"vectorization", d.getVectorization()},
        {"reason", d.getReason()},
        {"assumed", d.getAssumed()},
    });
  }
  llvm::json::Array assumptions;
  for (const char *a : kAssumptions)
    assumptions.push_back(a);
  llvm::json::Object root{
      {"profile", target.getName()},
      {"assumptions", std::move(assumptions)},
      {"ops", std::move(ops)},
  };
  os << llvm::formatv("{0:2}", llvm::json::Value(std::move(root))) << "\n";
}

std::string xmlEscape(StringRef s) {
  std::string out;
  for (char c : s) {
    switch (c) {
    case '<':
      out += "&lt;";
      break;
    case '>':
      out += "&gt;";
      break;
    case '&':
      out += "&amp;";
      break;
    case '"':
      out += "&quot;";
      break;
    default:
      out += c;
    }
  }
  return out;
}

/// One roof of the chart: a unit's (or both units') peak and bandwidth for an
/// element type.
struct Roof {
  std::string label, color;
  double peak, bw;
  bool dashed;
};

/// The roofs to draw: for each element type present (f32 if none), the CPU
/// roof and, where the matrix unit supports the type, the SME roof and the
/// combined one. All but the first two are dashed.
SmallVector<Roof> chartRoofs(TargetAttr target, ArrayRef<Row> rows) {
  llvm::SetVector<Type> types;
  for (const Row &r : rows)
    types.insert(r.d.getElem());
  if (types.empty())
    types.insert(Float32Type::get(target.getContext()));
  SmallVector<Roof> roofs;
  for (Type t : types) {
    roofs.push_back({"CPU " + typeName(t), "#1f77b4",
                     vectorPeakGflops(target, t), target.getVectorBwGbps(),
                     roofs.size() >= 2});
    if (matrixPeakGflops(target, t) > 0) {
      roofs.push_back({"SME " + typeName(t), "#d62728",
                       matrixPeakGflops(target, t), target.getMatrixBwGbps(),
                       roofs.size() >= 2});
      // Collab ops can sit above both: both units' compute, the memory
      // system's whole bandwidth.
      roofs.push_back(
          {"CPU+SME " + typeName(t), "#9467bd",
           vectorPeakGflops(target, t) + matrixPeakGflops(target, t),
           target.getMemBwGbps(), roofs.size() >= 3});
    }
  }
  return roofs;
}

/// The chart's geometry: the plot area in pixels (legend on the right) and
/// log-log axes spanning whole decades, 10^lx0..10^lx1 FLOP/byte and
/// 10^ly0..10^ly1 GFLOP/s.
struct ChartAxes {
  static constexpr double width = 1040, height = 560, left = 80, right = 370,
                          top = 50, bottom = 60;
  static constexpr double plotW = width - left - right,
                          plotH = height - top - bottom;
  double lx0, lx1, ly0, ly1;

  double x(double v) const {
    return left + (std::log10(v) - lx0) / (lx1 - lx0) * plotW;
  }
  double y(double v) const {
    return top + plotH - (std::log10(v) - ly0) / (ly1 - ly0) * plotH;
  }
};

/// Axis ranges in decades covering the roofs' ridges and every op.
ChartAxes chartAxes(ArrayRef<Roof> roofs, ArrayRef<Row> rows) {
  double xMin = 0.1, xMax = 1000, yMin = 1, yMax = 10;
  for (const Roof &r : roofs)
    yMax = std::max(yMax, r.peak * 2);
  for (const Row &r : rows) {
    double x = r.d.getIntensity(), us = r.chosenUs();
    if (x > 0)
      xMin = std::min(xMin, x / 2), xMax = std::max(xMax, x * 2);
    if (us > 0 && r.d.getFlops() > 0)
      yMin = std::min(yMin, r.d.getFlops() / us / 1e3 / 2);
  }
  return {std::floor(std::log10(xMin)), std::ceil(std::log10(xMax)),
          std::floor(std::log10(yMin)), std::ceil(std::log10(yMax))};
}

/// The SVG element, title, decade grid with labels, frame and axis titles.
void writeSvgFrame(llvm::raw_ostream &os, TargetAttr target,
                   const ChartAxes &a) {
  const double width = a.width, height = a.height, left = a.left, top = a.top,
               plotW = a.plotW, plotH = a.plotH;
  os << llvm::formatv("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" "
                      "height=\"{1}\" viewBox=\"0 0 {0} {1}\" "
                      "font-family=\"sans-serif\" font-size=\"12\">\n",
                      width, height)
            .str();
  os << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  os << "<text x=\"" << left
     << "\" y=\"25\" font-size=\"16\">Roofline: " << xmlEscape(target.getName())
     << " (predicted)</text>\n";
  // Grid and axes.
  for (double e = a.lx0; e <= a.lx1; ++e) {
    double x = a.x(std::pow(10, e));
    os << llvm::formatv("<line x1=\"{0:F1}\" y1=\"{1}\" x2=\"{0:F1}\" "
                        "y2=\"{2}\" stroke=\"#ddd\"/>\n"
                        "<text x=\"{0:F1}\" y=\"{3}\" "
                        "text-anchor=\"middle\">1e{4}</text>\n",
                        x, top, top + plotH, top + plotH + 18, int(e))
              .str();
  }
  for (double e = a.ly0; e <= a.ly1; ++e) {
    double y = a.y(std::pow(10, e));
    os << llvm::formatv("<line x1=\"{0}\" y1=\"{1:F1}\" x2=\"{2}\" "
                        "y2=\"{1:F1}\" stroke=\"#ddd\"/>\n"
                        "<text x=\"{3}\" y=\"{4:F1}\" "
                        "text-anchor=\"end\">1e{5}</text>\n",
                        left, y, left + plotW, left - 6, y + 4, int(e))
              .str();
  }
  os << llvm::formatv("<rect x=\"{0}\" y=\"{1}\" width=\"{2}\" height=\"{3}\" "
                      "fill=\"none\" stroke=\"black\"/>\n",
                      left, top, plotW, plotH)
            .str();
  os << llvm::formatv("<text x=\"{0}\" y=\"{1}\" text-anchor=\"middle\">"
                      "arithmetic intensity (FLOP/byte)</text>\n",
                      left + plotW / 2, height - 15)
            .str();
  os << llvm::formatv("<text x=\"20\" y=\"{0}\" text-anchor=\"middle\" "
                      "transform=\"rotate(-90 20 {0})\">attainable GFLOP/s"
                      "</text>\n",
                      top + plotH / 2)
            .str();
}

/// Roofs: bandwidth slope up to the ridge, then the flat peak; each with a
/// legend line from `legendY` down.
void writeSvgRoofs(llvm::raw_ostream &os, const ChartAxes &a,
                   ArrayRef<Roof> roofs, double &legendY) {
  const double left = a.left, plotW = a.plotW;
  for (const Roof &r : roofs) {
    double x0 = std::pow(10, a.lx0), x1 = std::pow(10, a.lx1);
    double ridge = r.peak / r.bw;
    double yStart = std::max(r.bw * x0, std::pow(10, a.ly0));
    double xStart = yStart / r.bw;
    os << llvm::formatv("<polyline fill=\"none\" stroke=\"{0}\" "
                        "stroke-width=\"2\"{1} points=\"{2:F1},{3:F1} "
                        "{4:F1},{5:F1} {6:F1},{5:F1}\"/>\n",
                        r.color, r.dashed ? " stroke-dasharray=\"6 4\"" : "",
                        a.x(xStart), a.y(yStart), a.x(std::min(ridge, x1)),
                        a.y(r.peak), a.x(x1))
              .str();
    os << llvm::formatv("<line x1=\"{0}\" y1=\"{1}\" x2=\"{2}\" y2=\"{1}\" "
                        "stroke=\"{3}\" stroke-width=\"2\"{4}/>\n"
                        "<text x=\"{5}\" y=\"{6}\">{7}: {8} GFLOP/s, {9} "
                        "GB/s</text>\n",
                        left + plotW + 10, legendY, left + plotW + 30, r.color,
                        r.dashed ? " stroke-dasharray=\"6 4\"" : "",
                        left + plotW + 35, legendY + 4, xmlEscape(r.label),
                        fmt(r.peak), fmt(r.bw))
              .str();
    legendY += 18;
  }
}

/// Ops: a legend of the mode colours from `legendY` down, then a point per op
/// that does arithmetic, at its intensity and predicted throughput.
void writeSvgOps(llvm::raw_ostream &os, const ChartAxes &a, ArrayRef<Row> rows,
                 double &legendY) {
  const double left = a.left, plotW = a.plotW;
  const char *modeColor[3] = {"#1f77b4", "#d62728", "#9467bd"};
  legendY += 10;
  for (unsigned m = 0; m < 3; ++m) {
    os << llvm::formatv("<circle cx=\"{0}\" cy=\"{1}\" r=\"5\" fill=\"{2}\"/>"
                        "<text x=\"{3}\" y=\"{4}\">op on {5}</text>\n",
                        left + plotW + 20, legendY, modeColor[m],
                        left + plotW + 35, legendY + 4,
                        stringifyExecMode(static_cast<ExecMode>(m)))
              .str();
    legendY += 18;
  }
  for (const Row &r : rows) {
    double x = r.d.getIntensity(), us = r.chosenUs();
    if (x <= 0 || us <= 0 || r.d.getFlops() == 0)
      continue; // fills and copies do no arithmetic: nothing to plot
    double gflops = r.d.getFlops() / us / 1e3;
    os << llvm::formatv("<circle class=\"op\" cx=\"{0:F1}\" cy=\"{1:F1}\" "
                        "r=\"5\" fill=\"{2}\" fill-opacity=\"0.8\"><title>#{3} "
                        "{4} ({5}): {6} flop/B, {7} GFLOP/s, {8}</title>"
                        "</circle>\n<text x=\"{9:F1}\" y=\"{10:F1}\" "
                        "font-size=\"10\">{3}</text>\n",
                        a.x(x), a.y(gflops),
                        modeColor[static_cast<unsigned>(r.d.getMode())],
                        r.index, xmlEscape(r.d.getKind()), r.d.getShapeClass(),
                        fmt(x), fmt(gflops), stringifyExecMode(r.d.getMode()),
                        a.x(x) + 6, a.y(gflops) - 6)
              .str();
  }
}

/// A log-log Roofline chart.
void writeSvg(llvm::raw_ostream &os, TargetAttr target, ArrayRef<Row> rows) {
  SmallVector<Roof> roofs = chartRoofs(target, rows);
  ChartAxes axes = chartAxes(roofs, rows);
  writeSvgFrame(os, target, axes);
  double legendY = axes.top + 10;
  writeSvgRoofs(os, axes, roofs, legendY);
  writeSvgOps(os, axes, rows, legendY);
  os << "</svg>\n";
}

struct RooflineReportPass
    : public mlir::smepilot::impl::RooflineReportBase<RooflineReportPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    markAllAnalysesPreserved();
    auto target = module->getAttrOfType<TargetAttr>(TargetAttr::kAttrName);
    if (!target) {
      module.emitError("smepilot-roofline-report: the module has no '")
          << TargetAttr::kAttrName << "': run smepilot-roofline-annotate first";
      return signalPassFailure();
    }
    SmallVector<Row> rows;
    module.walk([&](Operation *op) {
      auto d = op->getAttrOfType<DecisionAttr>(DecisionAttr::kAttrName);
      if (!d)
        return;
      Row r{static_cast<unsigned>(rows.size()), "", locationOf(op), d};
      if (auto f = op->getParentOfType<FunctionOpInterface>())
        r.function = f.getName().str();
      rows.push_back(r);
    });

    if (output == "-") {
      writeText(llvm::outs(), target, rows);
      if (llvm::Error err = flushStdout()) {
        module.emitError("smepilot-roofline-report: ")
            << llvm::toString(std::move(err));
        return signalPassFailure();
      }
      return;
    }
    // The file the module was read from is never overwritten.
    SmallVector<std::string> inputs;
    if (auto loc = dyn_cast<FileLineColLoc>(module.getLoc()))
      inputs.push_back(loc.getFilename().str());
    auto write = [&](StringRef ext, auto &&fn) -> bool {
      std::string path = std::string(output) + ext.str();
      // Each file goes through a temporary renamed into place (OutputFile):
      // an existing report is never left half-written, and a path that is a
      // directory, a device or the input is refused.
      if (llvm::Error err = writeOutputFile(path, inputs, fn)) {
        module.emitError("smepilot-roofline-report: cannot write ")
            << llvm::toString(std::move(err));
        return false;
      }
      return true;
    };
    if (!write(".txt",
               [&](llvm::raw_ostream &os) { writeText(os, target, rows); }) ||
        !write(".csv", [&](llvm::raw_ostream &os) { writeCsv(os, rows); }) ||
        !write(".json",
               [&](llvm::raw_ostream &os) { writeJson(os, target, rows); }) ||
        !write(".svg",
               [&](llvm::raw_ostream &os) { writeSvg(os, target, rows); }))
      return signalPassFailure();
  }
};

} // namespace
