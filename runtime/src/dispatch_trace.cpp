// SMEPilot runtime: the dispatch executor's trace (see dispatch_trace.h).
#include "smepilot_rt/dispatch_trace.h"

#include "smepilot_rt/output_file.h"

#include "strformat.h"

#include <algorithm>
#include <chrono>

namespace smepilot::rt {

namespace {

/// `s` as the contents of a JSON string (quotes, backslashes and control
/// characters escaped).
std::string json_escape(const char *s) {
  std::string out;
  for (; s && *s; ++s) {
    const unsigned char c = static_cast<unsigned char>(*s);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += char(c);
    } else if (c < 0x20) {
      out += strformat("\\u%04x", c);
    } else {
      out += char(c);
    }
  }
  return out;
}

} // namespace

void dispatch_trace::reserve_workers(int n_workers) {
  if (n_workers > int(per_worker_.size()))
    per_worker_.resize(size_t(n_workers));
}

std::vector<trace_event> dispatch_trace::events() const {
  std::vector<trace_event> all;
  for (const auto &w : per_worker_)
    all.insert(all.end(), w.begin(), w.end());
  std::sort(all.begin(), all.end(), [](const trace_event &a, const trace_event &b) {
    if (a.start_ns != b.start_ns)
      return a.start_ns < b.start_ns;
    return a.worker != b.worker ? a.worker < b.worker : a.end_ns < b.end_ns;
  });
  return all;
}

void dispatch_trace::clear() {
  for (auto &w : per_worker_)
    w.clear();
}

std::vector<dispatch_time> summarize_dispatches(const std::vector<trace_event> &events) {
  // Calls by (phase, dispatch), each group by start time.
  std::vector<const trace_event *> sorted;
  for (const trace_event &e : events)
    sorted.push_back(&e);
  auto phase_of = [](const trace_event *e) -> std::string_view {
    return e->phase ? e->phase : "(unnamed)";
  };
  std::sort(sorted.begin(), sorted.end(), [&](const trace_event *a, const trace_event *b) {
    if (phase_of(a) != phase_of(b))
      return phase_of(a) < phase_of(b);
    if (a->dispatch != b->dispatch)
      return a->dispatch < b->dispatch;
    return a->start_ns != b->start_ns ? a->start_ns < b->start_ns : a->end_ns < b->end_ns;
  });
  std::vector<dispatch_time> out;
  int64_t covered_until = 0;
  for (const trace_event *e : sorted) {
    if (out.empty() || out.back().phase != phase_of(e) || out.back().dispatch != e->dispatch) {
      out.push_back({std::string(phase_of(e)), e->dispatch, 0, 0, 0});
      covered_until = e->start_ns;
    }
    dispatch_time &t = out.back();
    ++t.calls;
    t.busy_ns += e->end_ns - e->start_ns;
    // The union of intervals sorted by start: count what extends it.
    const int64_t from = std::max(e->start_ns, covered_until);
    if (e->end_ns > from)
      t.wall_ns += e->end_ns - from;
    covered_until = std::max(covered_until, e->end_ns);
  }
  return out;
}

int64_t trace_clock_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string chrome_trace_json(const std::vector<trace_event> &events) {
  const int64_t t0 = events.empty() ? 0 : events.front().start_ns;
  std::string out = "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n";
  for (size_t i = 0; i < events.size(); ++i) {
    const trace_event &e = events[i];
    const std::string name = e.name ? json_escape(e.name) : strformat("dispatch %u", e.dispatch);
    out += strformat(
        "{\"name\":\"%s\",\"cat\":\"%s\",\"ph\":\"X\",\"pid\":1,\"tid\":%d,"
        "\"ts\":%.3f,\"dur\":%.3f,\"args\":{\"phase\":\"%s\",\"dispatch\":%u,"
        "\"unit\":\"%s\",\"tiles\":[%lld,%lld],\"start_ns\":%lld,\"end_ns\":%lld}}%s\n",
        name.c_str(), e.sme ? "sme" : "cpu", e.worker, double(e.start_ns - t0) / 1e3,
        double(e.end_ns - e.start_ns) / 1e3, json_escape(e.phase ? e.phase : "(unnamed)").c_str(),
        e.dispatch, e.sme ? "sme" : "cpu", (long long)e.tile_begin, (long long)e.tile_end,
        (long long)e.start_ns, (long long)e.end_ns, i + 1 < events.size() ? "," : "");
  }
  out += "]}\n";
  return out;
}

status write_chrome_trace(const dispatch_trace &trace, const std::string &path,
                          const std::vector<std::string> &inputs) {
  auto out = output_file::create(path, inputs);
  if (!out)
    return out.take_error();
  const std::string json = chrome_trace_json(trace.events());
  SMEPILOT_RT_RETURN_IF_ERROR((*out)->write(json.data(), json.size()));
  return (*out)->commit();
}

} // namespace smepilot::rt
