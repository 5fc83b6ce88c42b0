// SMEPilot runtime: what every engine shares (engine.h).
#include "smepilot_rt/engine.h"

#include "strformat.h"

#include <cmath>

namespace smepilot::rt {

status engine::write_trace(const std::string &path, const std::vector<std::string> &) const {
  const std::string_view n = name();
  return status::error(strformat("the %.*s engine records no trace (for %s: use a compiled "
                                 "engine, jit or aot)",
                                 int(n.size()), n.data(), path.c_str()));
}

status check_logits_finite(std::string_view engine_name, const float *logits, int64_t n_rows,
                           int64_t n_vocab, int64_t first_pos) {
  for (int64_t r = 0; r < n_rows; ++r) {
    const float *row = logits + r * n_vocab;
    int64_t bad = 0;
    for (int64_t j = 0; j < n_vocab; ++j)
      bad += !std::isfinite(row[j]);
    if (bad == 0)
      continue;
    int64_t nans = 0;
    for (int64_t j = 0; j < n_vocab; ++j)
      nans += std::isnan(row[j]);
    const char *what = nans == bad ? "NaN" : nans == 0 ? "infinity" : "NaN and infinity";
    return status::error(strformat("the %.*s engine produced non-finite logits at position %lld "
                                   "(%s in %lld of %lld logits); the model's weights may be out "
                                   "of range",
                                   int(engine_name.size()), engine_name.data(),
                                   (long long)(first_pos + r), what, (long long)bad,
                                   (long long)n_vocab));
  }
  return status::ok();
}

} // namespace smepilot::rt
