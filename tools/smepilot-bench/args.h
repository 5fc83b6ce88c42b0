// smepilot-bench: command-line options (llama-bench's flag names).
#pragma once

#include "smepilot_rt/status.h"

#include <cstdint>
#include <string>
#include <vector>

namespace smepilot::bench {

enum class output_format { md, csv, json };

/// A prompt + generation pair (-pg P,N).
struct pg_size {
  int32_t n_prompt = 0;
  int32_t n_gen = 0;
};

struct options {
  std::vector<std::string> models; ///< -m; default: rt::default_model_path().
  std::vector<int32_t> n_prompt{512}; ///< -p; 0 entries are skipped.
  std::vector<int32_t> n_gen{128};    ///< -n; 0 entries are skipped.
  std::vector<pg_size> pg;            ///< -pg P,N (repeatable).
  int repetitions = 5;                ///< -r
  std::vector<int> threads;           ///< -t; default: hardware threads.
  std::vector<std::string> engines{"reference"}; ///< --engine
  std::vector<int32_t> n_batch{64};              ///< -b
  int32_t n_ctx = 0; ///< -c; 0: what the largest test needs.
  /// --adaptive on|off: the compiled engines' run-time adaptation
  /// (engine_options::adaptive). Its probes change where some dispatches run
  /// for a few runs, which a benchmark of a few short runs sees.
  bool adaptive = true;
  output_format format = output_format::md;
  bool warmup = true;
  bool progress = false; ///< --progress: a line on stderr per step.
  bool verbose = false;  ///< -v: --progress and the engines' own -v output.
  bool help = false;
  bool version = false;
};

/// Parses argv. Errors are one sentence ("unknown option '--foo'").
rt::result<options> parse_args(int argc, char **argv);

/// The --help text, with defaults.
std::string usage();

} // namespace smepilot::bench
