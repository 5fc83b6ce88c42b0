// smepilot-server: command-line options (llama-server's names where they
// exist).
#pragma once

#include "smepilot_rt/status.h"

#include <cstdint>
#include <string>

namespace smepilot::server {

struct options {
  std::string model; ///< Default: rt::default_model_path().
  std::string host = "127.0.0.1";
  int port = 8080; ///< 0: any free port (printed when listening).
  /// Bearer token every /v1 request must carry; empty: none asked.
  std::string api_key;
  int32_t n_ctx = 0; ///< 0: the model's training context.
  int n_threads = 0; ///< 0: the CPUs this process may use.
  std::string engine = "reference";
  /// Requests that may wait while one is generating; one more gets 503.
  int max_queue = 4;
  /// Largest request body accepted (bytes); larger ones get 413.
  int64_t max_body = 4 << 20;
  /// Sleep after each generated token (tests of queueing and cancellation).
  int debug_token_delay_ms = 0;
  bool verbose = false;
  bool help = false;
  bool version = false;
};

/// Parses argv. Errors are one sentence ("unknown option '--foo'").
rt::result<options> parse_args(int argc, char **argv);

/// The --help text, with defaults.
std::string usage();

} // namespace smepilot::server
