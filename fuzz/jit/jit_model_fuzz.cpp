// libFuzzer target for the JIT engine's model binding.
//
// Feeds each input to gguf_file::from_bytes and, when it opens, to
// smepilot::engine::check_model_graph: the front half every compiled engine
// runs before LLVM (read_model_config, bind_model_weights, then the linalg
// graph built for a small context and verified in an MLIRContext). The
// promise (JITEngine.h) is that a model the checks let through builds a
// graph that verifies, and that anything else is an error with a message,
// never a crash. So besides the sanitizers this aborts (which libFuzzer
// reports as a crash) when:
//   - check_model_graph fails without a message, or with the builder's
//     "internal error" (a module that does not verify: the checks before it
//     let through a model the builder cannot express);
//   - it succeeds on a file whose config or weights do not bind (the engine
//     would then run a model the reference engine refuses);
//   - with SMEPILOT_FUZZ_EXPECT_GRAPH=1 (replaying known-good models, the
//     fuzz-jit-model-models test), it refuses the input at all.
//
// Built only in the compiler sanitizer build (clang, SMEPILOT_SANITIZE and
// SMEPILOT_BUILD_COMPILER; fuzz/jit/CMakeLists.txt).
// Run: jit_model_fuzz CORPUS_DIR [-dict=fuzz/gguf.dict] [-max_total_time=60]
// SMEPILOT_FUZZ_VERBOSE=1 prints what happened to each input.
#include "smepilot/Engine/JITEngine.h"

#include "smepilot_rt/engine.h"
#include "smepilot_rt/gguf.h"
#include "smepilot_rt/model.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

using namespace smepilot::rt;

namespace {

bool verbose() {
  static const bool v = std::getenv("SMEPILOT_FUZZ_VERBOSE") != nullptr;
  return v;
}

bool expect_graph() {
  static const bool v = std::getenv("SMEPILOT_FUZZ_EXPECT_GRAPH") != nullptr;
  return v;
}

[[noreturn]] void violated(const char *what, const std::string &detail) {
  std::fprintf(stderr, "jit_model_fuzz: invariant violated: %s (%s)\n", what, detail.c_str());
  std::abort();
}

// A small context and batch: the graph for every accepted model stays small
// enough to build in milliseconds. n_batch > 1 adds the chunked functions.
engine_options fuzz_options() {
  engine_options options;
  options.n_threads = 1;
  options.n_ctx = 64;
  options.n_batch = 8;
  return options;
}

} // namespace

// LLVM's allocators poison and unpoison their slabs in inline header code
// only in files built with ASan; libMLIR.so's copy is not, so memory it hands
// out would read as poisoned here (false use-after-poison). Nothing of ours
// poisons memory by hand. The environment's ASAN_OPTIONS still apply on top.
extern "C" const char *__asan_default_options() { return "allow_user_poisoning=0"; }

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  // An exact-size copy: ASan flags any read past the input's end.
  std::vector<uint8_t> bytes(data, data + size);
  auto opened = gguf_file::from_bytes(std::move(bytes), "<fuzz>");
  if (!opened.is_ok()) {
    if (expect_graph())
      violated("a model expected to build does not open", opened.error().message());
    if (verbose())
      std::fprintf(stderr, "jit_model_fuzz: not a GGUF file: %s\n",
                   opened.error().message().c_str());
    return 0;
  }
  const gguf_file &file = *opened.value();
  const status checked = smepilot::engine::check_model_graph(file, fuzz_options());
  if (!checked.is_ok()) {
    const std::string &message = checked.message();
    if (message.empty())
      violated("check_model_graph failed without a message", "");
    if (message.find("internal error") != std::string::npos)
      violated("the graph builder made a module that does not verify", message);
    if (message.find("the graph builder failed") != std::string::npos)
      violated("the graph builder failed without a diagnostic", message);
    if (expect_graph())
      violated("a model expected to build was refused", message);
    if (verbose())
      std::fprintf(stderr, "jit_model_fuzz: refused: %s\n", message.c_str());
    return 0;
  }
  // Accepted: the reference engine's checks must accept it too.
  result<model_config> config = read_model_config(file);
  if (!config.is_ok())
    violated("graph built for a file without a model config", config.error().message());
  result<model_weights> weights = bind_model_weights(file, config.value());
  if (!weights.is_ok())
    violated("graph built for a model whose weights do not bind", weights.error().message());
  if (verbose())
    std::fprintf(stderr, "jit_model_fuzz: graph built: %s\n",
                 describe_model_config(config.value()).c_str());
  return 0;
}
