// smepilot-gguf dump: print what a GGUF file holds.
//
//   smepilot-gguf dump FILE [--json] [--no-arrays]
//
// The file is opened with full validation (gguf_file::open, mmap), so a file
// that dumps is a file the runtime accepts. Text output, in this order:
//
//   file: PATH
//   version: 3
//   alignment: 32
//   data_offset: 16416800        (absolute byte offset of the tensor data)
//   file_size: 24434176
//   metadata: N keys
//     KEY: TYPE = VALUE          one line per key, in file order
//   tensors: N
//     INDEX  NAME  TYPE  DIMS  OFFSET  BYTES     header line, then one per
//     tensor
//   model_config: ARCH           only for llama, qwen3, qwen3moe
//     FIELD = VALUE              see model.h
//   weights: ok, N of M tensors bound   (or "none" for a vocabulary-only file)
//
// VALUE: integers in decimal, float32 with 9 and float64 with 17 significant
// digits, bools as true/false, strings in double quotes with C escapes (\n,
// \t, \", \\, \xNN for other control bytes; UTF-8 passes through) and
// shortened to 160 bytes with `..." (N bytes)`. Arrays print as
// `[COUNT x ELEMENT_TYPE] v0, v1, ...` with the first 8 elements, or only
// `[COUNT x ELEMENT_TYPE]` with --no-arrays. DIMS are ne[0] first; OFFSET is
// the absolute file offset of the tensor's data; TYPE is the llama.cpp type
// name. A tensor of a type SMEPilot cannot dequantize (iq4_nl, the other IQ
// types, tq1_0, tq2_0, mxfp4) is listed with "(not supported by SMEPilot: no
// TYPE dequantizer)" after its byte count; binding the model then fails
// (exit 1, the error naming the tensor and its type).
//
// --json prints one JSON object instead:
//   {"file", "version", "alignment", "data_offset", "file_size",
//    "metadata": [{"key", "type", "value"} or {"key", "type": "array",
//                  "element_type", "count", "values": [...]}],
//    "tensors": [{"index", "name", "type", "dims", "offset", "bytes",
//                 "supported"}],
//    "model_config": {...} or null, "model_error": "..." (only on failure)}
// Arrays are complete in JSON ("values" is left out with --no-arrays). Strings
// are escaped per RFC 8259; bytes that are not valid UTF-8 become U+FFFD.
// Non-finite floats are written as null.
//
// Exit status: 0 on success; 1 when the file cannot be opened or is invalid,
// or when a recognised architecture's config or weights are invalid (one line
// `smepilot-gguf: error: ...` on stderr); 2 on usage errors.
#include "smepilot_rt/gguf.h"
#include "smepilot_rt/model.h"
#include "smepilot_rt/utf8.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <set>
#include <string>
#include <string_view>
#include <vector>

using namespace smepilot::rt;

namespace {

constexpr size_t max_text_string = 160;
constexpr uint64_t max_text_elements = 8;

constexpr const char *usage_line =
    "usage: smepilot-gguf dump FILE [--json] [--no-arrays]";

void usage(FILE *out) {
  std::fprintf(
      out,
      "%s\n"
      "\n"
      "Prints the GGUF version, alignment, metadata, tensor table and, for\n"
      "llama/qwen3/qwen3moe files, the model config.\n"
      "\n"
      "  --json       one JSON object instead of text (arrays complete)\n"
      "  --no-arrays  print array lengths and types, not their elements\n",
      usage_line);
}

std::string fmt_float(double v, bool is64) {
  char buf[64];
  std::snprintf(buf, sizeof buf, is64 ? "%.17g" : "%.9g", v);
  return buf;
}

std::string text_string(std::string_view s) {
  std::string out = "\"";
  size_t limit = s.size() > max_text_string ? max_text_string : s.size();
  size_t i = 0;
  while (i < limit) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      size_t n = utf8_sequence_length(s, i);
      if (n > 1) { // whole characters, even across the cut
        out.append(s.substr(i, n));
        i += n;
        continue;
      }
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '"' || c == '\\') {
      out += '\\';
      out += char(c);
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += char(c);
    }
    ++i;
  }
  out += '"';
  if (i < s.size())
    out = out.substr(0, out.size() - 1) + "...\" (" + std::to_string(s.size()) +
          " bytes)";
  return out;
}

std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      size_t n = utf8_sequence_length(s, i);
      if (n == 0) {
        out += "\\ufffd";
        ++i;
      } else {
        out.append(s.substr(i, n));
        i += n;
      }
      continue;
    }
    switch (c) {
    case '"':
      out += "\\\"";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '\n':
      out += "\\n";
      break;
    case '\t':
      out += "\\t";
      break;
    case '\r':
      out += "\\r";
      break;
    case '\b':
      out += "\\b";
      break;
    case '\f':
      out += "\\f";
      break;
    default:
      if (c < 0x20) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\u%04x", c);
        out += buf;
      } else {
        out += char(c);
      }
    }
    ++i;
  }
  return out + "\"";
}

// One scalar or string value; `json` selects the escaping and float style.
std::string value_string(const gguf_value &v, bool json) {
  switch (v.type) {
  case gguf_type::uint8:
  case gguf_type::uint16:
  case gguf_type::uint32:
  case gguf_type::uint64:
    return std::to_string(v.u);
  case gguf_type::int8:
  case gguf_type::int16:
  case gguf_type::int32:
  case gguf_type::int64:
    return std::to_string(v.i);
  case gguf_type::float32:
  case gguf_type::float64:
    if (json && !std::isfinite(v.f))
      return "null";
    return fmt_float(v.f, v.type == gguf_type::float64);
  case gguf_type::boolean:
    return v.b ? "true" : "false";
  case gguf_type::string:
    return json ? json_string(v.str) : text_string(v.str);
  case gguf_type::array:
    break;
  }
  return "?";
}

// Whether the runtime can read this tensor's values (dequantize_row). GGUF
// files may hold types GGML defines that SMEPilot has no dequantizer for
// (the IQ, TQ and MXFP4 families): such a file opens and dumps, and binding
// a model to it fails naming the tensor.
bool type_supported(const gguf_tensor_info &t) {
  const ggml_type_traits *tr = ggml_traits(t.type);
  return tr && tr->dequantizable;
}

std::string unsupported_note(const gguf_tensor_info &t) {
  return std::string("  (not supported by SMEPilot: no ") +
         ggml_type_name(t.type) + " dequantizer)";
}

void print_text(const gguf_file &f, bool no_arrays) {
  std::printf("file: %s\n", f.path().c_str());
  std::printf("version: %u\n", f.version());
  std::printf("alignment: %llu\n", (unsigned long long)f.alignment());
  std::printf("data_offset: %llu\n", (unsigned long long)f.data_offset());
  std::printf("file_size: %llu\n", (unsigned long long)f.file_size());
  std::printf("metadata: %zu keys\n", f.metadata().size());
  for (const gguf_kv &kv : f.metadata()) {
    const gguf_value &v = kv.value;
    std::string key = text_string(kv.key);
    key = key.substr(1, key.size() - 2); // keys print unquoted
    if (v.type != gguf_type::array) {
      std::printf("  %s: %s = %s\n", key.c_str(), gguf_type_name(v.type),
                  value_string(v, false).c_str());
      continue;
    }
    std::string line = "[" + std::to_string(v.array_count) + " x " +
                       gguf_type_name(v.array_type) + "]";
    if (!no_arrays && v.array_count > 0) {
      std::vector<gguf_value> elems = f.array_elements(v, max_text_elements);
      for (size_t i = 0; i < elems.size(); ++i)
        line += (i ? ", " : " ") + value_string(elems[i], false);
      if (v.array_count > elems.size())
        line += ", ...";
    }
    std::printf("  %s: array = %s\n", key.c_str(), line.c_str());
  }

  const auto &ts = f.tensors();
  std::printf("tensors: %zu\n", ts.size());
  // Names escaped as keys are (a name is bytes from the file: a control
  // character must not reach the terminal).
  std::vector<std::string> names;
  names.reserve(ts.size());
  for (const gguf_tensor_info &t : ts) {
    std::string name = text_string(t.name);
    names.push_back(name.substr(1, name.size() - 2)); // unquoted
  }
  size_t w_name = 4, w_dims = 4, w_type = 4;
  for (size_t i = 0; i < ts.size(); ++i) {
    const gguf_tensor_info &t = ts[i];
    w_name = std::max(w_name, names[i].size());
    w_dims = std::max(w_dims, gguf_dims_string(t.dims).size());
    w_type = std::max(w_type, std::strlen(ggml_type_name(t.type)));
  }
  std::printf("  %5s  %-*s  %-*s  %-*s  %12s  %12s\n", "index", int(w_name),
              "name", int(w_type), "type", int(w_dims), "dims", "offset",
              "bytes");
  for (size_t i = 0; i < ts.size(); ++i) {
    const gguf_tensor_info &t = ts[i];
    std::printf("  %5zu  %-*s  %-*s  %-*s  %12llu  %12llu%s\n", i, int(w_name),
                names[i].c_str(), int(w_type), ggml_type_name(t.type),
                int(w_dims), gguf_dims_string(t.dims).c_str(),
                (unsigned long long)(f.data_offset() + t.offset),
                (unsigned long long)t.n_bytes,
                type_supported(t) ? "" : unsupported_note(t).c_str());
  }
}

void print_json(const gguf_file &f, bool no_arrays) {
  std::string out;
  out += "{\"file\": " + json_string(f.path());
  out += ", \"version\": " + std::to_string(f.version());
  out += ", \"alignment\": " + std::to_string(f.alignment());
  out += ", \"data_offset\": " + std::to_string(f.data_offset());
  out += ", \"file_size\": " + std::to_string(f.file_size());
  out += ",\n \"metadata\": [";
  bool first = true;
  for (const gguf_kv &kv : f.metadata()) {
    const gguf_value &v = kv.value;
    out += first ? "\n  " : ",\n  ";
    first = false;
    out += "{\"key\": " + json_string(kv.key) + ", \"type\": \"" +
           gguf_type_name(v.type) + "\"";
    if (v.type != gguf_type::array) {
      out += ", \"value\": " + value_string(v, true) + "}";
      continue;
    }
    out += ", \"element_type\": \"" +
           std::string(gguf_type_name(v.array_type)) +
           "\", \"count\": " + std::to_string(v.array_count);
    if (!no_arrays) {
      out += ", \"values\": [";
      std::vector<gguf_value> elems = f.array_elements(v);
      for (size_t i = 0; i < elems.size(); ++i) {
        if (i)
          out += ", ";
        out += value_string(elems[i], true);
      }
      out += "]";
    }
    out += "}";
    std::fwrite(out.data(), 1, out.size(), stdout); // keep the buffer small
    out.clear();
  }
  out += "],\n \"tensors\": [";
  for (size_t i = 0; i < f.tensors().size(); ++i) {
    const gguf_tensor_info &t = f.tensors()[i];
    out += i ? ",\n  " : "\n  ";
    out += "{\"index\": " + std::to_string(i) +
           ", \"name\": " + json_string(t.name) + ", \"type\": \"" +
           ggml_type_name(t.type) +
           "\", \"dims\": " + gguf_dims_string(t.dims) +
           ", \"offset\": " + std::to_string(f.data_offset() + t.offset) +
           ", \"bytes\": " + std::to_string(t.n_bytes) +
           ", \"supported\": " + (type_supported(t) ? "true" : "false") + "}";
  }
  out += "]";
  std::fwrite(out.data(), 1, out.size(), stdout);
}

std::string config_json(const model_config &c) {
  std::string s = "{";
  auto add = [&](const char *k, const std::string &v) {
    if (s.size() > 1)
      s += ", ";
    s += "\"" + std::string(k) + "\": " + v;
  };
  auto str = [](const char *v) { return "\"" + std::string(v) + "\""; };
  auto num = [](uint64_t v) { return std::to_string(v); };
  auto b = [](bool v) { return std::string(v ? "true" : "false"); };
  add("arch", str(model_arch_name(c.arch)));
  add("name", json_string(c.name));
  add("n_vocab", num(c.n_vocab));
  add("n_ctx_train", num(c.n_ctx_train));
  add("n_embd", num(c.n_embd));
  add("n_layer", num(c.n_layer));
  add("n_head", num(c.n_head));
  add("n_head_kv", num(c.n_head_kv));
  add("head_dim", num(c.head_dim));
  add("head_dim_v", num(c.head_dim_v));
  add("n_ff", num(c.n_ff));
  add("rope_theta", fmt_float(c.rope_theta, false));
  add("rope_type", str(rope_style_name(c.rope_type)));
  add("rope_dim", num(c.rope_dim));
  add("rms_eps", fmt_float(c.rms_eps, false));
  add("n_expert", num(c.n_expert));
  add("n_expert_used", num(c.n_expert_used));
  add("n_ff_expert", num(c.n_ff_expert));
  add("expert_gating", str(expert_gating_name(c.gating)));
  add("expert_weights_norm", b(c.expert_weights_norm));
  add("tied_embeddings", b(c.tied_embeddings));
  add("has_rope_freqs", b(c.has_rope_freqs));
  add("has_qk_norm", b(c.has_qk_norm));
  return s + "}";
}

size_t count_bound(const model_weights &w) {
  std::set<const gguf_tensor_info *> seen = {w.token_embd, w.output_norm,
                                             w.output, w.rope_freqs};
  for (const layer_weights &l : w.layers)
    for (const gguf_tensor_info *t :
         {l.attn_norm, l.wq, l.wk, l.wv, l.wo, l.q_norm, l.k_norm, l.ffn_norm,
          l.ffn_gate, l.ffn_up, l.ffn_down, l.ffn_gate_inp, l.ffn_gate_exps,
          l.ffn_up_exps, l.ffn_down_exps})
      seen.insert(t);
  seen.erase(nullptr);
  return seen.size();
}

} // namespace

int smepilot_gguf_dump(int argc, char **argv) {
  const char *path = nullptr;
  bool json = false, no_arrays = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--json") {
      json = true;
    } else if (a == "--no-arrays") {
      no_arrays = true;
    } else if (a == "--help" || a == "-h") {
      usage(stdout);
      return 0;
    } else if (a.size() > 1 && a[0] == '-') {
      std::fprintf(stderr,
                   "smepilot-gguf: error: dump: unknown option '%s' (%s)\n",
                   argv[i], usage_line);
      return 2;
    } else if (path) {
      std::fprintf(stderr,
                   "smepilot-gguf: error: dump: one FILE expected, got '%s' "
                   "and '%s' (%s)\n",
                   path, argv[i], usage_line);
      return 2;
    } else {
      path = argv[i];
    }
  }
  if (!path) {
    std::fprintf(stderr, "smepilot-gguf: error: dump: missing FILE (%s)\n",
                 usage_line);
    return 2;
  }

  gguf_open_options options;
  options.mode = gguf_load_mode::mmap; // only the header is read
  result<std::unique_ptr<gguf_file>> opened = gguf_file::open(path, options);
  if (!opened) {
    std::fprintf(stderr, "smepilot-gguf: error: %s\n",
                 opened.error().message().c_str());
    return 1;
  }
  const gguf_file &f = **opened;

  // The model section, for recognised architectures.
  bool recognised = false;
  if (const gguf_kv *arch = f.find("general.architecture");
      arch && arch->value.type == gguf_type::string)
    recognised = arch->value.str == "llama" || arch->value.str == "qwen3" ||
                 arch->value.str == "qwen3moe";
  std::string model_error;
  result<model_config> config = status::error("not read");
  size_t n_bound = 0;
  if (recognised) {
    config = read_model_config(f);
    if (!config) {
      model_error = config.error().message();
    } else if (!f.tensors()
                    .empty()) { // vocab-only files have no weights to bind
      result<model_weights> w = bind_model_weights(f, *config);
      if (!w)
        model_error = w.error().message();
      else
        n_bound = count_bound(*w);
    }
  }

  if (json) {
    print_json(f, no_arrays);
    std::string tail = ",\n \"model_config\": ";
    tail += recognised && config ? config_json(*config) : "null";
    if (!model_error.empty())
      tail += ",\n \"model_error\": " + json_string(model_error);
    tail += "}\n";
    std::fwrite(tail.data(), 1, tail.size(), stdout);
  } else {
    print_text(f, no_arrays);
    if (recognised && config) {
      std::printf("model_config: %s\n%s", model_arch_name(config->arch),
                  describe_model_config(*config).c_str());
      if (f.tensors().empty())
        std::printf("weights: none (no tensors: a vocabulary-only file)\n");
      else if (model_error.empty())
        std::printf("weights: ok, %zu of %zu tensors bound\n", n_bound,
                    f.tensors().size());
    }
  }
  std::fflush(stdout);
  if (!model_error.empty()) {
    std::fprintf(stderr, "smepilot-gguf: error: %s\n", model_error.c_str());
    return 1;
  }
  return 0;
}
