// libFuzzer target for the GGUF reader.
//
// Feeds each input to gguf_file::from_bytes. The reader's promise (gguf.h) is
// that bad input is reported, never crashes, and that a file that opens is
// safe to read through the interface. So when an input opens, this walks all
// of it the way a loader would: every metadata value through every typed
// accessor (mismatched types must fail cleanly), every tensor's bytes, the
// first row of every tensor through dequantize_row, and the model config and
// weight binding (smepilot_rt/model.h) that every model load goes through.
// It also checks the documented invariants (tensor data inside the image and
// aligned, lookups finding the entries they list) and aborts when one fails,
// which libFuzzer reports as a crash.
//
// Built only in the sanitizer build with clang (fuzz/CMakeLists.txt):
//   -fsanitize=fuzzer,address,undefined
// Run: gguf_fuzz CORPUS_DIR [-dict=fuzz/gguf.dict] [-max_total_time=60]
// SMEPILOT_FUZZ_VERBOSE=1 prints why each input is rejected (to check seeds:
// `SMEPILOT_FUZZ_VERBOSE=1 gguf_fuzz fuzz/corpus/*.gguf`).
#include "smepilot_rt/ggml_types.h"
#include "smepilot_rt/gguf.h"
#include "smepilot_rt/model.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

using namespace smepilot::rt;

namespace {

bool verbose() {
  static const bool v = std::getenv("SMEPILOT_FUZZ_VERBOSE") != nullptr;
  return v;
}

[[noreturn]] void violated(const char *what, std::string_view name) {
  std::fprintf(stderr, "gguf_fuzz: invariant violated: %s (%.*s)\n", what,
               static_cast<int>(name.size()), name.data());
  std::abort();
}

// Folds everything read into one value that escapes, so no read is dead code.
volatile uint64_t g_sink = 0;
void consume(uint64_t v) { g_sink = g_sink * 31 + v; }
void consume(std::string_view s) {
  for (unsigned char c : s)
    consume(c);
}
void consume(const std::string &s) { consume(std::string_view(s)); }
void consume(const status &s) { consume(s.message()); }
template <typename T> void consume(const result<T> &r) {
  if (!r.is_ok()) {
    // A failed accessor must explain itself.
    if (r.error().message().empty())
      violated("error without a message", "");
    consume(r.error());
    return;
  }
  const T &v = r.value();
  if constexpr (std::is_same_v<T, std::string_view>) {
    consume(v);
  } else if constexpr (std::is_same_v<T, double>) {
    consume(static_cast<uint64_t>(v == v));
  } else if constexpr (std::is_arithmetic_v<T>) {
    consume(static_cast<uint64_t>(v));
  } else if constexpr (requires { v.begin(); }) {
    for (const auto &e : v) {
      if constexpr (std::is_same_v<std::decay_t<decltype(e)>, std::string_view>)
        consume(e);
      else if constexpr (std::is_floating_point_v<std::decay_t<decltype(e)>>)
        consume(static_cast<uint64_t>(e == e));
      else
        consume(static_cast<uint64_t>(e));
    }
  }
}

void walk_metadata(const gguf_file &file) {
  for (const gguf_kv &kv : file.metadata()) {
    if (file.find(kv.key) != &kv)
      violated("find() does not return the listed entry", kv.key);
    consume(kv.key);
    if (const char *type_name = gguf_type_name(kv.value.type))
      consume(std::string_view(type_name));
    // Every accessor on every key: the ones of another type must fail cleanly.
    consume(file.get_string(kv.key));
    consume(file.get_uint(kv.key));
    consume(file.get_int(kv.key));
    consume(file.get_float(kv.key));
    consume(file.get_bool(kv.key));
    consume(file.get_string_array(kv.key));
    consume(file.get_f32_array(kv.key));
    consume(file.get_int_array(kv.key));
    if (kv.value.type == gguf_type::array) {
      for (const gguf_value &e : file.array_elements(kv.value, 64)) {
        consume(static_cast<uint64_t>(e.type));
        consume(e.u);
        consume(e.str);
      }
    }
  }
  consume(file.get_string("general.architecture"));
  consume(file.get_uint("general.alignment"));
}

void walk_tensors(const gguf_file &file) {
  const std::span<const uint8_t> image = file.bytes();
  const uint8_t *begin = image.data();
  const uint8_t *end = image.data() + image.size();
  const uint64_t alignment = file.alignment();
  if (alignment == 0 || (alignment & (alignment - 1)) != 0)
    violated("alignment is not a power of two", "general.alignment");
  std::vector<float> row;
  for (const gguf_tensor_info &t : file.tensors()) {
    if (file.find_tensor(t.name) != &t)
      violated("find_tensor() does not return the listed tensor", t.name);
    if (t.dims.empty())
      violated("tensor without dimensions", t.name);
    uint64_t n = 1;
    for (int64_t d : t.dims) {
      if (d <= 0)
        violated("non-positive dimension", t.name);
      n *= static_cast<uint64_t>(d);
    }
    if (n != t.n_elements)
      violated("n_elements is not the product of the dimensions", t.name);
    if (t.offset % alignment != 0)
      violated("tensor offset not a multiple of the alignment", t.name);
    if (t.n_bytes > 0 &&
        (t.data < begin || t.data > end || t.n_bytes > static_cast<uint64_t>(end - t.data)))
      violated("tensor data outside the image", t.name);
    if (t.data != begin + file.data_offset() + t.offset)
      violated("tensor data pointer does not match data_offset + offset", t.name);
    // Read every byte (ASan checks the range, in case the checks above lie).
    uint64_t sum = 0;
    for (uint64_t i = 0; i < t.n_bytes; ++i)
      sum += t.data[i];
    consume(sum);

    // Dequantize (at most 64 Ki elements of) the first row.
    const ggml_type_traits *traits = ggml_traits(static_cast<uint32_t>(t.type));
    if (!traits)
      violated("tensor of an unknown type opened", t.name);
    const uint64_t block = traits->block_size;
    uint64_t count = std::min<uint64_t>(static_cast<uint64_t>(t.dims[0]), 65536);
    count -= count % block;
    if (traits->dequantizable && count > 0) {
      row.assign(count, 0.0f);
      status s = dequantize_row(t.type, t.data, row.data(), count);
      consume(s);
      if (s.is_ok())
        for (float f : row)
          consume(static_cast<uint64_t>(f == f));
    }
  }
}

// A bound weight must be one of the file's tensors.
void check_bound(const gguf_file &file, const gguf_tensor_info *t, const char *role) {
  if (!t)
    return;
  const auto &all = file.tensors();
  if (all.empty() || t < all.data() || t >= all.data() + all.size())
    violated("bound weight is not one of the file's tensors", role);
  consume(t->name);
}

// Returns what happened, for SMEPILOT_FUZZ_VERBOSE.
std::string walk_model(const gguf_file &file) {
  result<model_config> config = read_model_config(file);
  consume(config);
  if (!config.is_ok())
    return "no model config: " + config.error().message();
  const model_config &c = config.value();
  consume(describe_model_config(c));
  consume(std::string_view(model_arch_name(c.arch)));
  result<model_weights> weights = bind_model_weights(file, c);
  consume(weights);
  if (!weights.is_ok())
    return "weights not bound: " + weights.error().message();
  const model_weights &w = weights.value();
  if (w.layers.size() != c.n_layer)
    violated("bound layer count differs from n_layer", "");
  if (!w.token_embd || !w.output_norm || !w.output)
    violated("a required weight is missing after binding", "");
  check_bound(file, w.token_embd, "token_embd");
  check_bound(file, w.output_norm, "output_norm");
  check_bound(file, w.output, "output");
  check_bound(file, w.rope_freqs, "rope_freqs");
  for (const layer_weights &l : w.layers) {
    for (const gguf_tensor_info *t :
         {l.attn_norm, l.wq, l.wk, l.wv, l.wo, l.q_norm, l.k_norm, l.ffn_norm, l.ffn_gate, l.ffn_up,
          l.ffn_down, l.ffn_gate_inp, l.ffn_gate_exps, l.ffn_up_exps, l.ffn_down_exps})
      check_bound(file, t, "layer weight");
  }
  return std::string("model ") + model_arch_name(c.arch) + " bound";
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  // An exact-size copy: ASan flags any read past the input's end.
  std::vector<uint8_t> bytes(data, data + size);
  auto opened = gguf_file::from_bytes(std::move(bytes), "<fuzz>");
  if (!opened.is_ok()) {
    if (opened.error().message().empty())
      violated("from_bytes failed without a message", "");
    if (verbose())
      std::fprintf(stderr, "gguf_fuzz: rejected: %s\n", opened.error().message().c_str());
    return 0;
  }
  const gguf_file &file = *opened.value();
  if (file.version() != 2 && file.version() != 3)
    violated("opened a file of an unsupported version", "");
  if (file.file_size() != size)
    violated("file_size() is not the input size", "");
  walk_metadata(file);
  walk_tensors(file);
  const std::string model = walk_model(file);
  if (verbose())
    std::fprintf(stderr, "gguf_fuzz: opened: version %u, %zu keys, %zu tensors; %s\n",
                 file.version(), file.metadata().size(), file.tensors().size(), model.c_str());
  return 0;
}
