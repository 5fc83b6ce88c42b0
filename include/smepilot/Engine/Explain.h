//===- Explain.h - render a compiled model's decisions ----*- C++ -*-===//
//
// `smepilot-run --explain`: what the compiler decided for every dispatch of
// a compiled model, read from the model's `smepilot_explain` document (the
// JSON smepilot-export-explain writes into the JIT module and AOT objects;
// abi.h), never recomputed beside it. Per dispatch: the builder ops its
// kernels compute, shape, element type, mode and SME share, the Roofline
// model's predicted time in that mode and on the vector cores alone, what
// bounds it, the layouts of the buffers it reads and writes, and, after a
// run with the executor's trace on, the measured time beside the predicted
// one. Per phase: the predicted time all on the vector cores and as chosen
// (the predicted speedup), layout changes per call and per token, and the
// packed buffers reused from the load table.
//
// Predictions are the Roofline model's (a hardware profile's numbers),
// never measurements; measured times are the trace's wall time of each
// dispatch (the union of its kernel calls' intervals), per run of its phase.
//
//===----------------------------------------------------------------------===//
#ifndef SMEPILOT_ENGINE_EXPLAIN_H
#define SMEPILOT_ENGINE_EXPLAIN_H

#include "smepilot_rt/engine.h"
#include "smepilot_rt/status.h"

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace smepilot::engine {

enum class explain_format {
  text, ///< a report for people
  json, ///< the same as JSON, for tools (schema in Explain.cpp)
};

/// Renders `document` (a `smepilot_explain` JSON document, version 1) with
/// `measured` (rt::engine::profile() after a run; empty: predictions only)
/// beside the predictions. An error names what is wrong with a document
/// that is not valid JSON, has another version or misses a field.
rt::result<std::string>
render_explain(std::string_view document, explain_format format,
               const std::vector<rt::engine::phase_profile> &measured = {});

/// The Roofline model's predicted time of one call of each dispatch, as
/// compiled (us; 0 for a dispatch no op is recorded for), per phase name:
/// what run-time adaptation compares its measurements with
/// (engine_options::predicted_us).
rt::result<std::map<std::string, std::vector<double>>>
predicted_dispatch_us(std::string_view document);

} // namespace smepilot::engine

#endif // SMEPILOT_ENGINE_EXPLAIN_H
