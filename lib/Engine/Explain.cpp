//===- Explain.cpp - render a compiled model's decisions ------------------===//
//
// See Explain.h. The input schema is smepilot-export-explain's
// (lib/Dialect/SMEPilot/Transforms/ExportExplain.cpp); the JSON output is
//
//   {"version": 1, "target", "profile", "measured": bool,
//    "tables": [{"name", "chunk", "last_row_only", "load", "runs",
//      "summary": {"dispatches", "predicted_us", "predicted_cpu_only_us",
//                  "predicted_speedup", "layout_changes_per_call",
//                  "layout_changes_per_token", "packed_from_load",
//                  "measured_us", "assumed": [...]},
//      "dispatches": [{"index", "name", "mode", "sme_share", "ops": [{"id",
//                      "loops", <the decision's fields>}], "layout_changes",
//                      "predicted_us", "predicted_cpu_only_us", "measured_us",
//                      "calls", "reads": [{"buffer", "layout"}],
//                      "writes": [...]}]}]}
//
// with null for what was not measured. A dispatch's predicted time is the
// sum over the builder ops its kernels compute of each op's time in its
// chosen mode; an op split over several dispatches (one per head) carries
// its share in each. Layouts are tracked through each table in order: a
// buffer written by a layout change holds that layout, a packed buffer the
// load table wrote holds the load table's layout ("... at load"), every
// other buffer is row-major.
//
//===----------------------------------------------------------------------===//

#include "smepilot/Engine/Explain.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"

#include <map>
#include <optional>
#include <set>

namespace smepilot::engine {

namespace {

namespace json = llvm::json;

constexpr int64_t kSchemaVersion = 1;

struct decision {
  std::string kind, shape_class, elem, mode, bound, vectorization, reason,
      assumed;
  double sme_fraction = 0, cpu_us = 0, sme_us = -1, collab_us = -1;
  int64_t flops = 0, weight_bytes = 0, act_bytes = 0;
  const json::Object *source = nullptr;

  /// The predicted time in the chosen mode.
  double chosen_us() const {
    if (mode == "sme")
      return sme_us;
    if (mode == "collab")
      return collab_us;
    return cpu_us;
  }
};

struct record {
  std::optional<std::string> layout_change;
  int64_t decision = -1, id = -1;
  std::vector<int64_t> loops;
};

struct dispatch {
  std::string name, mode;
  int64_t sme_share = 0;
  std::vector<int64_t> reads, writes, records;
};

struct table {
  std::string name;
  int64_t chunk = 0;
  bool last_row_only = false, load = false;
  std::vector<std::string> buffers;
  std::vector<dispatch> dispatches;
};

struct document {
  std::string target, profile;
  std::vector<record> records;
  std::vector<decision> decisions;
  std::vector<table> tables;
};

/// Reads fields of one JSON object, remembering the first error with the
/// path of the field that caused it.
class reader {
public:
  explicit reader(std::string &error) : error_(error) {}

  bool failed() const { return !error_.empty(); }
  void fail(const std::string &where, const std::string &what) {
    if (error_.empty())
      error_ = where + ": " + what;
  }

  const json::Object *object(const json::Value *v, const std::string &where) {
    const json::Object *o = v ? v->getAsObject() : nullptr;
    if (!o)
      fail(where, "expected an object");
    return o;
  }
  const json::Array *array(const json::Object &o, llvm::StringRef key,
                           const std::string &where) {
    const json::Array *a = o.getArray(key);
    if (!a)
      fail(where + "." + key.str(), "expected an array");
    return a;
  }
  std::string string(const json::Object &o, llvm::StringRef key,
                     const std::string &where) {
    std::optional<llvm::StringRef> s = o.getString(key);
    if (!s) {
      fail(where + "." + key.str(), "expected a string");
      return {};
    }
    return s->str();
  }
  int64_t integer(const json::Object &o, llvm::StringRef key,
                  const std::string &where) {
    std::optional<int64_t> i = o.getInteger(key);
    if (!i) {
      fail(where + "." + key.str(), "expected an integer");
      return 0;
    }
    return *i;
  }
  double number(const json::Object &o, llvm::StringRef key,
                const std::string &where) {
    std::optional<double> d = o.getNumber(key);
    if (!d) {
      fail(where + "." + key.str(), "expected a number");
      return 0;
    }
    return *d;
  }
  bool boolean(const json::Object &o, llvm::StringRef key,
               const std::string &where) {
    std::optional<bool> b = o.getBoolean(key);
    if (!b) {
      fail(where + "." + key.str(), "expected true or false");
      return false;
    }
    return *b;
  }
  /// An array of integers in [0, limit).
  std::vector<int64_t> indices(const json::Object &o, llvm::StringRef key,
                               size_t limit, const std::string &where) {
    std::vector<int64_t> out;
    const json::Array *a = array(o, key, where);
    if (!a)
      return out;
    for (const json::Value &v : *a) {
      std::optional<int64_t> i = v.getAsInteger();
      if (!i || *i < 0 || uint64_t(*i) >= limit) {
        fail(where + "." + key.str(),
             "expected indices below " + std::to_string(limit));
        return out;
      }
      out.push_back(*i);
    }
    return out;
  }

private:
  std::string &error_;
};

rt::result<document> parse_document(std::string_view text,
                                    json::Value &storage) {
  llvm::Expected<json::Value> parsed =
      json::parse(llvm::StringRef(text.data(), text.size()));
  if (!parsed)
    return rt::status::error("the explanation is not valid JSON: " +
                             llvm::toString(parsed.takeError()));
  storage = std::move(*parsed);
  std::string error;
  reader r(error);
  document doc;
  const json::Object *root = r.object(&storage, "explanation");
  if (!root)
    return rt::status::error(error);
  std::optional<int64_t> version = root->getInteger("version");
  if (!version || *version != kSchemaVersion)
    return rt::status::error(
        llvm::formatv("the explanation has schema version {0}; this "
                      "build reads version {1}",
                      version ? std::to_string(*version) : "(none)",
                      kSchemaVersion)
            .str());
  doc.target = r.string(*root, "target", "explanation");
  if (std::optional<llvm::StringRef> p = root->getString("profile"))
    doc.profile = p->str();
  if (const json::Array *decisions = r.array(*root, "decisions", "explanation"))
    for (const auto &[i, v] : llvm::enumerate(*decisions)) {
      std::string where = llvm::formatv("decisions[{0}]", i).str();
      const json::Object *o = r.object(&v, where);
      if (!o)
        break;
      decision d;
      d.source = o;
      d.kind = r.string(*o, "kind", where);
      d.shape_class = r.string(*o, "shape_class", where);
      d.elem = r.string(*o, "elem", where);
      d.mode = r.string(*o, "mode", where);
      d.bound = r.string(*o, "bound", where);
      d.vectorization = r.string(*o, "vectorization", where);
      d.reason = r.string(*o, "reason", where);
      d.assumed = r.string(*o, "assumed", where);
      d.sme_fraction = r.number(*o, "sme_fraction", where);
      d.cpu_us = r.number(*o, "cpu_us", where);
      d.sme_us = r.number(*o, "sme_us", where);
      d.collab_us = r.number(*o, "collab_us", where);
      d.flops = r.integer(*o, "flops", where);
      d.weight_bytes = r.integer(*o, "weight_bytes", where);
      d.act_bytes = r.integer(*o, "act_bytes", where);
      doc.decisions.push_back(std::move(d));
    }
  if (const json::Array *records = r.array(*root, "records", "explanation"))
    for (const auto &[i, v] : llvm::enumerate(*records)) {
      std::string where = llvm::formatv("records[{0}]", i).str();
      const json::Object *o = r.object(&v, where);
      if (!o)
        break;
      record rec;
      if (std::optional<llvm::StringRef> layout =
              o->getString("layout_change")) {
        rec.layout_change = layout->str();
      } else {
        std::optional<int64_t> index = o->getInteger("decision");
        if (!index || *index < 0 || uint64_t(*index) >= doc.decisions.size()) {
          r.fail(where + ".decision", "expected a decision index");
          break;
        }
        rec.decision = *index;
        rec.id = o->getInteger("id").value_or(-1);
        if (const json::Array *loops = r.array(*o, "loops", where))
          for (const json::Value &l : *loops)
            rec.loops.push_back(l.getAsInteger().value_or(-1));
      }
      doc.records.push_back(std::move(rec));
    }
  if (const json::Array *tables = r.array(*root, "tables", "explanation"))
    for (const auto &[i, v] : llvm::enumerate(*tables)) {
      std::string where = llvm::formatv("tables[{0}]", i).str();
      const json::Object *o = r.object(&v, where);
      if (!o)
        break;
      table t;
      t.name = r.string(*o, "name", where);
      t.chunk = r.integer(*o, "chunk", where);
      t.last_row_only = r.boolean(*o, "last_row_only", where);
      t.load = r.boolean(*o, "load", where);
      if (const json::Array *buffers = r.array(*o, "buffers", where))
        for (const json::Value &b : *buffers)
          t.buffers.push_back(b.getAsString().value_or("").str());
      if (const json::Array *dispatches = r.array(*o, "dispatches", where))
        for (const auto &[j, dv] : llvm::enumerate(*dispatches)) {
          std::string dwhere =
              llvm::formatv("{0}.dispatches[{1}]", where, j).str();
          const json::Object *d = r.object(&dv, dwhere);
          if (!d)
            break;
          dispatch x;
          x.name = r.string(*d, "name", dwhere);
          x.mode = r.string(*d, "mode", dwhere);
          x.sme_share = r.integer(*d, "sme_share", dwhere);
          x.reads = r.indices(*d, "reads", t.buffers.size(), dwhere);
          x.writes = r.indices(*d, "writes", t.buffers.size(), dwhere);
          x.records = r.indices(*d, "records", doc.records.size(), dwhere);
          t.dispatches.push_back(std::move(x));
        }
      doc.tables.push_back(std::move(t));
    }
  if (r.failed())
    return rt::status::error("the explanation is malformed: " + error);
  return doc;
}

/// What is computed from the document for one dispatch.
struct dispatch_view {
  std::vector<const record *> ops;  ///< records of builder ops
  std::vector<std::string> layouts; ///< layout changes it makes
  double predicted_us = 0, cpu_only_us = 0;
  const decision *main = nullptr; ///< the op with the most FLOPs/bytes
  const record *main_record = nullptr;
  std::vector<std::pair<std::string, std::string>> reads,
      writes; ///< buffer, layout
  std::optional<double> measured_us;
  int64_t calls = 0;
};

struct table_view {
  std::vector<dispatch_view> dispatches;
  double predicted_us = 0, cpu_only_us = 0;
  int64_t layout_changes = 0, packed_from_load = 0;
  std::optional<int64_t> runs;
  std::optional<double> measured_us;
  std::set<std::string> assumed;
};

std::string loops_string(const std::vector<int64_t> &loops) {
  std::string s;
  for (int64_t l : loops) {
    if (!s.empty())
      s += "x";
    s += l < 0 ? "?" : std::to_string(l);
  }
  return s.empty() ? "-" : s;
}

/// The op a dispatch is named after: its largest by work and traffic.
bool bigger(const decision &a, const decision &b) {
  return a.flops + a.weight_bytes + a.act_bytes >
         b.flops + b.weight_bytes + b.act_bytes;
}

std::vector<table_view>
analyze(const document &doc,
        const std::vector<rt::engine::phase_profile> &measured) {
  // Layouts of the load table's packed buffers, by name, as phases see them.
  std::map<std::string, std::string> packed;
  for (const table &t : doc.tables)
    if (t.load)
      for (const dispatch &d : t.dispatches)
        for (int64_t r : d.records)
          if (const record &rec = doc.records[size_t(r)]; rec.layout_change)
            for (int64_t w : d.writes)
              packed[t.buffers[size_t(w)]] = *rec.layout_change + " at load";
  std::vector<table_view> views;
  for (const table &t : doc.tables) {
    table_view &tv = views.emplace_back();
    const rt::engine::phase_profile *profile = nullptr;
    for (const rt::engine::phase_profile &p : measured)
      if (p.phase == t.name)
        profile = &p;
    if (profile && profile->runs > 0)
      tv.runs = profile->runs;
    std::map<std::string, std::string> layout_of =
        t.load ? std::map<std::string, std::string>{} : packed;
    std::set<std::string> from_load;
    for (const auto &[i, d] : llvm::enumerate(t.dispatches)) {
      dispatch_view &dv = tv.dispatches.emplace_back();
      bool computes = false; // a builder op besides any layout change
      for (int64_t r : d.records) {
        const record &rec = doc.records[size_t(r)];
        if (rec.layout_change) {
          dv.layouts.push_back(*rec.layout_change);
          continue;
        }
        computes = true;
        const decision &dec = doc.decisions[size_t(rec.decision)];
        dv.ops.push_back(&rec);
        dv.predicted_us += std::max(0.0, dec.chosen_us());
        dv.cpu_only_us += std::max(0.0, dec.cpu_us);
        if (!dec.assumed.empty())
          tv.assumed.insert(dec.assumed);
        if (!dv.main || bigger(dec, *dv.main)) {
          dv.main = &dec;
          dv.main_record = &rec;
        }
      }
      for (int64_t b : d.reads) {
        const std::string &name = t.buffers[size_t(b)];
        auto it = layout_of.find(name);
        dv.reads.emplace_back(name,
                              it == layout_of.end() ? "row-major" : it->second);
        if (!t.load && packed.count(name))
          from_load.insert(name);
      }
      const std::string written =
          dv.layouts.empty() ? "row-major" : dv.layouts.front();
      for (int64_t b : d.writes) {
        const std::string &name = t.buffers[size_t(b)];
        layout_of[name] = written;
        dv.writes.emplace_back(name, written);
      }
      // A copy into another layout. A producer that writes its consumer's
      // layout in its own pass (a norm fused with a pack) copies nothing.
      if (!dv.layouts.empty() && !computes)
        ++tv.layout_changes;
      tv.predicted_us += dv.predicted_us;
      tv.cpu_only_us += dv.cpu_only_us;
      if (profile && profile->runs > 0)
        for (const rt::dispatch_time &m : profile->dispatches)
          if (m.dispatch == i) {
            dv.measured_us = double(m.wall_ns) / 1e3 / double(profile->runs);
            dv.calls = m.calls;
            tv.measured_us = tv.measured_us.value_or(0) + *dv.measured_us;
          }
    }
    tv.packed_from_load = int64_t(from_load.size());
  }
  return views;
}

std::string us(double v) { return llvm::formatv("{0:f2}", v).str(); }

std::string op_label(const dispatch &d, const dispatch_view &dv,
                     const document &doc) {
  if (!dv.ops.empty()) {
    std::string s;
    for (const record *r : dv.ops) {
      const decision &dec = doc.decisions[size_t(r->decision)];
      std::string k = dec.kind == "generic" ? dec.shape_class : dec.kind;
      if (s.find(k) == std::string::npos)
        s += (s.empty() ? "" : "+") + k;
    }
    return s;
  }
  if (!dv.layouts.empty())
    return "layout:" + dv.layouts.front();
  // No builder op: a copy bufferization or the KV cache update made, or a
  // fill folded away; the dispatch's root op says which.
  size_t colon = d.name.rfind(':');
  return colon == std::string::npos ? "-" : d.name.substr(colon + 1);
}

std::string render_text(const document &doc,
                        const std::vector<table_view> &views, bool measured) {
  std::string out;
  out +=
      llvm::formatv(
          "SMEPilot explain: target {0}, profile {1}. Predicted times are the "
          "Roofline model's for that profile, not measurements",
          doc.target, doc.profile.empty() ? "(none)" : doc.profile)
          .str();
  out += measured ? "; measured times are this run's (executor trace, wall "
                    "time per run).\n"
                  : ".\n";
  for (const auto &[t, tv] : llvm::zip(doc.tables, views)) {
    out += "\n";
    if (t.load)
      out += llvm::formatv("load table {0}: {1} dispatches, run once at load\n",
                           t.name, t.dispatches.size())
                 .str();
    else
      out +=
          llvm::formatv("phase {0}: {1} token{2} per call{3}, {4} dispatches\n",
                        t.name, t.chunk, t.chunk == 1 ? "" : "s",
                        t.last_row_only ? " (last position's logits only)" : "",
                        t.dispatches.size())
              .str();
    const double speedup =
        tv.predicted_us > 0 ? tv.cpu_only_us / tv.predicted_us : 1.0;
    out += llvm::formatv(
               "  predicted {0} us as chosen, {1} us all on the vector cores "
               "({2:f2}x)",
               us(tv.predicted_us), us(tv.cpu_only_us), speedup)
               .str();
    if (tv.measured_us)
      out += llvm::formatv("; measured {0} us per run ({1} runs)",
                           us(*tv.measured_us), *tv.runs)
                 .str();
    out += "\n";
    if (!t.load) {
      out += llvm::formatv("  layout changes: {0} per call, {1:f2} per token; "
                           "packed buffers "
                           "reused from the load table: {2}\n",
                           tv.layout_changes,
                           t.chunk > 0
                               ? double(tv.layout_changes) / double(t.chunk)
                               : 0.0,
                           tv.packed_from_load)
                 .str();
    }
    if (!tv.assumed.empty())
      out += "  dynamic sizes assumed by the predictions: " +
             llvm::join(tv.assumed, "; ") + "\n";
    out += llvm::formatv(
               "  {0,-5} {1,-11} {2,-24} {3,-14} {4,-5} {5,9} {6,9} {7,9}  "
               "{8,-8} {9}\n",
               "#", "mode", "op", "shape", "elem", "pred us", "cpu us",
               measured ? "meas us" : "", "bound", "layouts (non row-major)")
               .str();
    for (size_t i = 0; i < t.dispatches.size(); ++i) {
      const dispatch &d = t.dispatches[i];
      const dispatch_view &dv = tv.dispatches[i];
      std::string mode = d.mode;
      if (d.mode == "collab")
        mode += llvm::formatv(" {0:f0}%", 100.0 * double(d.sme_share) / 65536.0)
                    .str();
      std::string layouts;
      for (const auto &[name, layout] : dv.reads)
        if (layout != "row-major")
          layouts += (layouts.empty() ? "" : ", ") + name + " " + layout;
      for (const auto &[name, layout] : dv.writes)
        if (layout != "row-major")
          layouts += (layouts.empty() ? "-> " : ", -> ") + name + " " + layout;
      out += llvm::formatv("  d{0,-4} {1,-11} {2,-24} {3,-14} {4,-5} {5,9} "
                           "{6,9} {7,9}  {8,-8} {9}\n",
                           i, mode, op_label(d, dv, doc),
                           dv.main_record ? loops_string(dv.main_record->loops)
                                          : "-",
                           dv.main ? dv.main->elem : "-",
                           dv.ops.empty() ? "-" : us(dv.predicted_us),
                           dv.ops.empty() ? "-" : us(dv.cpu_only_us),
                           dv.measured_us ? us(*dv.measured_us) : "",
                           dv.main ? dv.main->bound : "-", layouts)
                 .str();
    }
  }
  return out;
}

json::Value optional_number(const std::optional<double> &v) {
  return v ? json::Value(*v) : json::Value(nullptr);
}

std::string render_json(const document &doc,
                        const std::vector<table_view> &views, bool measured) {
  json::Array tables;
  for (const auto &[t, tv] : llvm::zip(doc.tables, views)) {
    json::Array dispatches;
    for (size_t i = 0; i < t.dispatches.size(); ++i) {
      const dispatch &d = t.dispatches[i];
      const dispatch_view &dv = tv.dispatches[i];
      json::Array ops;
      for (const record *r : dv.ops) {
        json::Object op = *doc.decisions[size_t(r->decision)].source;
        op["id"] = r->id;
        op["loops"] = json::Array(r->loops);
        ops.push_back(std::move(op));
      }
      auto buffers =
          [](const std::vector<std::pair<std::string, std::string>> &list) {
            json::Array a;
            for (const auto &[name, layout] : list)
              a.push_back(json::Object{{"buffer", name}, {"layout", layout}});
            return a;
          };
      json::Array layouts;
      for (const std::string &l : dv.layouts)
        layouts.push_back(l);
      dispatches.push_back(json::Object{
          {"index", int64_t(i)},
          {"name", d.name},
          {"mode", d.mode},
          {"sme_share", double(d.sme_share) / 65536.0},
          {"ops", std::move(ops)},
          {"layout_changes", std::move(layouts)},
          {"predicted_us", dv.ops.empty() ? json::Value(nullptr)
                                          : json::Value(dv.predicted_us)},
          {"predicted_cpu_only_us",
           dv.ops.empty() ? json::Value(nullptr) : json::Value(dv.cpu_only_us)},
          {"measured_us", optional_number(dv.measured_us)},
          {"calls",
           dv.measured_us ? json::Value(dv.calls) : json::Value(nullptr)},
          {"reads", buffers(dv.reads)},
          {"writes", buffers(dv.writes)},
      });
    }
    json::Array assumed;
    for (const std::string &a : tv.assumed)
      assumed.push_back(a);
    tables.push_back(json::Object{
        {"name", t.name},
        {"chunk", t.chunk},
        {"last_row_only", t.last_row_only},
        {"load", t.load},
        {"runs", tv.runs ? json::Value(*tv.runs) : json::Value(nullptr)},
        {"summary",
         json::Object{
             {"dispatches", int64_t(t.dispatches.size())},
             {"predicted_us", tv.predicted_us},
             {"predicted_cpu_only_us", tv.cpu_only_us},
             {"predicted_speedup",
              tv.predicted_us > 0 ? tv.cpu_only_us / tv.predicted_us : 1.0},
             {"layout_changes_per_call", tv.layout_changes},
             {"layout_changes_per_token",
              t.chunk > 0 ? double(tv.layout_changes) / double(t.chunk)
                          : json::Value(nullptr)},
             {"packed_from_load", tv.packed_from_load},
             {"measured_us", optional_number(tv.measured_us)},
             {"assumed", std::move(assumed)},
         }},
        {"dispatches", std::move(dispatches)},
    });
  }
  json::Value root = json::Object{
      {"version", kSchemaVersion},
      {"target", doc.target},
      {"profile",
       doc.profile.empty() ? json::Value(nullptr) : json::Value(doc.profile)},
      {"measured", measured},
      {"tables", std::move(tables)},
  };
  return llvm::formatv("{0:2}\n", root).str();
}

} // namespace

rt::result<std::string>
render_explain(std::string_view text, explain_format format,
               const std::vector<rt::engine::phase_profile> &measured) {
  if (text.empty())
    return rt::status::error(
        "the compiled model carries no explanation (smepilot_explain): "
        "it was compiled by a build without smepilot-export-explain");
  json::Value storage(nullptr);
  rt::result<document> doc = parse_document(text, storage);
  if (!doc)
    return doc.take_error();
  const bool has_measured = !measured.empty();
  std::vector<table_view> views = analyze(*doc, measured);
  return format == explain_format::json
             ? render_json(*doc, views, has_measured)
             : render_text(*doc, views, has_measured);
}

rt::result<std::map<std::string, std::vector<double>>>
predicted_dispatch_us(std::string_view text) {
  json::Value storage(nullptr);
  rt::result<document> doc = parse_document(text, storage);
  if (!doc)
    return doc.take_error();
  std::map<std::string, std::vector<double>> out;
  std::vector<table_view> views = analyze(*doc, {});
  for (const auto &[t, v] : llvm::zip(doc->tables, views)) {
    std::vector<double> &times = out[t.name];
    for (const dispatch_view &dv : v.dispatches)
      times.push_back(dv.predicted_us);
  }
  return out;
}

} // namespace smepilot::engine
