// smepilot-gguf tokenize: the token ids of a text under a GGUF file's
// tokenizer, like llama.cpp's llama-tokenize.
//
//   smepilot-gguf tokenize FILE TEXT [--ids-only] [--no-bos] [--no-special]
//
// The text is encoded as tokenizer::encode(TEXT, add_special, parse_special),
// i.e. llama_tokenize: BOS (and EOS) are added when the model asks for them
// (tokenizer.ggml.add_bos_token / the model's default) unless --no-bos, and
// special-token strings in TEXT ("<|im_start|>") become their ids unless
// --no-special. Options may come before or after FILE and TEXT; `--` ends
// them (for a TEXT that starts with '-').
//
// Output (stdout), one line per token, as llama-tokenize prints it:
//
//      1 -> '<s>'
//    403 -> ' Once'
//
// i.e. printf("%6d -> '%s'\n", id, piece). The piece is the token's bytes
// (tokenizer::token_to_piece, special tokens shown as their text) with
// escapes so that every token stays on one line: \n \r \t \\ \' and \xNN for
// other control bytes and for bytes that are not part of a complete UTF-8
// character (a byte-fallback token <0xE2> prints as '\xe2'); valid UTF-8
// passes through.
//
// With --ids-only, one line with the ids as a list: [1, 403, 407, 261, 378]
//
// Exit status: 0 on success; 1 when the file cannot be opened or has no
// usable tokenizer, 2 on usage errors; either way one line
// `smepilot-gguf: error: ...` on stderr.
#include "smepilot_rt/gguf.h"
#include "smepilot_rt/tokenizer.h"
#include "smepilot_rt/utf8.h"

#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

using namespace smepilot::rt;

namespace {

constexpr const char *usage_line = "usage: smepilot-gguf tokenize FILE TEXT "
                                   "[--ids-only] [--no-bos] [--no-special]";

void usage(FILE *out) {
  std::fprintf(
      out,
      "%s\n"
      "\n"
      "Prints the tokens of TEXT under FILE's tokenizer, one `ID -> 'PIECE'` "
      "per line.\n"
      "\n"
      "  --ids-only    print only the list of ids: [1, 403, ...]\n"
      "  --no-bos      do not add BOS/EOS even if the model asks for them\n"
      "  --no-special  treat special-token strings in TEXT as plain text\n"
      "  --            end of options\n",
      usage_line);
}

std::string escape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    const size_t n = utf8_sequence_length(s, i);
    if (n > 1) {
      out.append(s.substr(i, n));
      i += n;
      continue;
    }
    ++i;
    switch (c) {
    case '\n':
      out += "\\n";
      break;
    case '\r':
      out += "\\r";
      break;
    case '\t':
      out += "\\t";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '\'':
      out += "\\'";
      break;
    default:
      if (n == 1 && c >= 0x20 && c != 0x7F) {
        out += static_cast<char>(c);
      } else {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\x%02x", c);
        out += buf;
      }
    }
  }
  return out;
}

} // namespace

int smepilot_gguf_tokenize(int argc, char **argv) {
  bool ids_only = false, add_special = true, parse_special = true,
       options_done = false;
  const char *positional[2] = {nullptr, nullptr};
  int n_positional = 0;
  for (int i = 1; i < argc; ++i) {
    const char *a = argv[i];
    if (!options_done && a[0] == '-' && a[1] != '\0') {
      if (!std::strcmp(a, "--")) {
        options_done = true;
      } else if (!std::strcmp(a, "--help") || !std::strcmp(a, "-h")) {
        usage(stdout);
        return 0;
      } else if (!std::strcmp(a, "--ids-only")) {
        ids_only = true;
      } else if (!std::strcmp(a, "--no-bos")) {
        add_special = false;
      } else if (!std::strcmp(a, "--no-special")) {
        parse_special = false;
      } else {
        std::fprintf(
            stderr,
            "smepilot-gguf: error: tokenize: unknown option '%s' (%s)\n", a,
            usage_line);
        return 2;
      }
      continue;
    }
    if (n_positional == 2) {
      std::fprintf(stderr,
                   "smepilot-gguf: error: tokenize: unexpected argument '%s' "
                   "after FILE and TEXT "
                   "(quote TEXT as one argument; %s)\n",
                   a, usage_line);
      return 2;
    }
    positional[n_positional++] = a;
  }
  if (n_positional != 2) {
    std::fprintf(stderr, "smepilot-gguf: error: tokenize: missing %s (%s)\n",
                 n_positional == 0 ? "FILE and TEXT" : "TEXT", usage_line);
    return 2;
  }

  gguf_open_options open_options;
  open_options.mode = gguf_load_mode::mmap; // only the metadata is read
  auto file = gguf_file::open(positional[0], open_options);
  if (!file) {
    std::fprintf(stderr, "smepilot-gguf: error: %s\n",
                 file.error().message().c_str());
    return 1;
  }
  auto tok = tokenizer::from_gguf(**file);
  if (!tok) {
    std::fprintf(stderr, "smepilot-gguf: error: %s\n",
                 tok.error().message().c_str());
    return 1;
  }
  const std::vector<int32_t> ids =
      (*tok)->encode(positional[1], add_special, parse_special);
  if (ids_only) {
    std::string line = "[";
    for (size_t i = 0; i < ids.size(); ++i)
      line += (i ? ", " : "") + std::to_string(ids[i]);
    std::printf("%s]\n", line.c_str());
  } else {
    for (int32_t id : ids)
      std::printf("%6d -> '%s'\n", id,
                  escape((*tok)->token_to_piece(id)).c_str());
  }
  return std::fflush(stdout) == 0 ? 0 : 1;
}
