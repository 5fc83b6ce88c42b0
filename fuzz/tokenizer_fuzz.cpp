// libFuzzer target for the tokenizers.
//
// Two kinds of input, told apart by the GGUF magic:
//
//  - A GGUF file ("GGUF..."): the tokenizer is built from it
//    (tokenizer::from_gguf), which must fail with a message or give a
//    tokenizer that survives encoding a fixed set of awkward texts and its
//    own vocabulary (every token's text and piece, concatenated), with every
//    flag combination, then detokenizing the result both ways.
//  - Anything else is text for one of the tokenizers loaded at start-up
//    (SMEPILOT_FUZZ_TOKENIZERS, ':'-separated GGUF paths; by default the
//    corpus's tiny models and the shared models that exist). The first byte
//    picks the tokenizer (low 6 bits, modulo their count), add_special
//    (0x40) and parse_special (0x80); the rest is the text.
//
// Checked, besides the sanitizers (tokenizer.h's promises):
//   - every id encode returns is valid; with add_special, BOS / EOS are
//     where add_bos_default / add_eos_default say;
//   - the streaming detokenizer's output is valid UTF-8, whatever the ids;
//   - for a tokenizer that encodes every single byte losslessly (checked at
//     start-up: SPM with byte fallback, byte-level BPE), text encoded without
//     special handling decodes to the same bytes (detokenize), and, when the
//     text is valid UTF-8, the streamed text equals it too.
// A violation aborts, which libFuzzer reports as a crash.
//
// Built only in the sanitizer build with clang (fuzz/CMakeLists.txt).
// Run: tokenizer_fuzz CORPUS_DIR [-max_total_time=60]
// SMEPILOT_FUZZ_VERBOSE=1 prints the loaded tokenizers and each input's fate.
#include "smepilot_rt/gguf.h"
#include "smepilot_rt/tokenizer.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

using namespace smepilot::rt;

#ifndef SMEPILOT_FUZZ_TOKENIZER_MODELS
#define SMEPILOT_FUZZ_TOKENIZER_MODELS ""
#endif

namespace {

bool verbose() {
  static const bool v = std::getenv("SMEPILOT_FUZZ_VERBOSE") != nullptr;
  return v;
}

std::string printable(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  return out;
}

// Which tokenizer the current input runs through, for reports.
std::string g_current = "?";

[[noreturn]] void violated(const char *what, std::string_view text, std::string_view detail = {}) {
  // The first difference and 80 bytes around it: inputs can be long.
  size_t at = 0;
  while (at < text.size() && at < detail.size() && text[at] == detail[at])
    ++at;
  const size_t from = at > 40 ? at - 40 : 0;
  std::fprintf(stderr, "tokenizer_fuzz: invariant violated (%s): %s\n", g_current.c_str(), what);
  std::fprintf(stderr, "  text (%zu bytes, from byte %zu): \"%s\"\n", text.size(), from,
               printable(text.substr(std::min(from, text.size()), 80)).c_str());
  if (!detail.empty())
    std::fprintf(stderr, "  got  (%zu bytes, from byte %zu): \"%s\"\n", detail.size(), from,
                 printable(detail.substr(std::min(from, detail.size()), 80)).c_str());
  std::abort();
}

// Unicode's well-formed UTF-8 (no overlongs, no surrogates, at most U+10FFFF).
bool valid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t n = 0;
    unsigned char lo = 0x80, hi = 0xbf;
    if (c < 0x80) {
      ++i;
      continue;
    } else if (c >= 0xc2 && c <= 0xdf) {
      n = 1;
    } else if (c >= 0xe0 && c <= 0xef) {
      n = 2;
      if (c == 0xe0)
        lo = 0xa0;
      if (c == 0xed)
        hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 3;
      if (c == 0xf0)
        lo = 0x90;
      if (c == 0xf4)
        hi = 0x8f;
    } else {
      return false;
    }
    if (i + n >= s.size())
      return false;
    for (size_t k = 1; k <= n; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xbf))
        return false;
    }
    i += n + 1;
  }
  return true;
}

struct loaded_tokenizer {
  std::string path;
  std::unique_ptr<tokenizer> tok;
  // Every single byte encodes (no special handling) and decodes to itself.
  bool lossless = false;
};

std::vector<loaded_tokenizer> &tokenizers() {
  static std::vector<loaded_tokenizer> all;
  return all;
}

bool round_trips(const tokenizer &tok, std::string_view text) {
  const std::vector<int32_t> ids = tok.encode(text, false, false);
  return tok.detokenize(ids, false) == text;
}

void load_tokenizers() {
  const char *env = std::getenv("SMEPILOT_FUZZ_TOKENIZERS");
  std::string_view paths = env ? env : SMEPILOT_FUZZ_TOKENIZER_MODELS;
  while (!paths.empty()) {
    const size_t colon = paths.find(':');
    const std::string path(paths.substr(0, colon));
    paths = colon == std::string_view::npos ? std::string_view() : paths.substr(colon + 1);
    if (path.empty())
      continue;
    auto file = gguf_file::open(path);
    if (!file.is_ok()) {
      std::fprintf(stderr, "tokenizer_fuzz: skipping %s: %s\n", path.c_str(),
                   file.error().message().c_str());
      continue;
    }
    auto tok = tokenizer::from_gguf(*file.value());
    if (!tok.is_ok()) {
      std::fprintf(stderr, "tokenizer_fuzz: skipping %s: %s\n", path.c_str(),
                   tok.error().message().c_str());
      continue;
    }
    loaded_tokenizer t{path, std::move(tok.value()), true};
    for (int b = 0; b < 256 && t.lossless; ++b)
      t.lossless = round_trips(*t.tok, std::string(1, static_cast<char>(b)));
    std::fprintf(stderr, "tokenizer_fuzz: loaded %s (%d tokens, %s%s)\n", path.c_str(),
                 t.tok->n_vocab(), t.tok->model() == tokenizer_model::spm ? "spm" : "bpe",
                 t.lossless ? ", lossless" : "");
    tokenizers().push_back(std::move(t));
  }
}

// Encodes `text` and checks what the header promises about the result.
void check_encode(const tokenizer &tok, std::string_view text, bool add_special, bool parse_special,
                  bool lossless) {
  // SPM writes spaces as U+2581 ("\xe2\x96\x81"): one in the text decodes
  // to a space (as in SentencePiece and llama.cpp), so it cannot round-trip.
  if (tok.model() == tokenizer_model::spm && text.find("\xe2\x96\x81") != std::string_view::npos)
    lossless = false;
  const std::vector<int32_t> ids = tok.encode(text, add_special, parse_special);
  for (int32_t id : ids)
    if (!tok.is_valid(id))
      violated("encode returned an invalid id", text);
  if (add_special && tok.add_bos_default() && tok.bos_id() >= 0 &&
      (ids.empty() || ids.front() != tok.bos_id()))
    violated("add_special without BOS at the start", text);
  if (add_special && tok.add_eos_default() && tok.eos_id() >= 0 &&
      (ids.empty() || ids.back() != tok.eos_id()))
    violated("add_special without EOS at the end", text);
  if (!add_special && text.empty() && !ids.empty())
    violated("empty text gave tokens without add_special", text);

  const std::string plain = tok.detokenize(ids, false);
  const std::string special = tok.detokenize(ids, true);
  for (bool render : {false, true}) {
    detokenizer stream(tok, detokenizer_options{true, render});
    std::string streamed;
    for (int32_t id : ids)
      streamed += stream.push(id);
    streamed += stream.flush();
    if (!valid_utf8(streamed))
      violated("the streaming detokenizer produced invalid UTF-8", text, streamed);
    if (lossless && !add_special && !parse_special && !render && valid_utf8(text) &&
        streamed != text)
      violated("streamed text differs from the encoded text", text, streamed);
  }
  if (lossless && !add_special && !parse_special && plain != text)
    violated("detokenize(encode(text)) differs from the text", text, plain);
  // Pieces of every id, including ones outside the vocabulary.
  for (int32_t id : {-1, 0, tok.n_vocab() - 1, tok.n_vocab(), tok.bos_id(), tok.eos_id()}) {
    const std::string piece = tok.token_to_piece(id, true);
    if (!tok.is_valid(id) && !piece.empty())
      violated("an invalid id has a piece", text, piece);
  }
  if (special.size() < plain.size())
    violated("rendering special tokens made the text shorter", text, special);
}

void check_all_flags(const tokenizer &tok, std::string_view text, bool lossless) {
  for (bool add_special : {false, true})
    for (bool parse_special : {false, true})
      check_encode(tok, text, add_special, parse_special, lossless);
}

// Texts every tokenizer built from a fuzzed file must survive.
constexpr std::string_view kFixedTexts[] = {
    "",
    " ",
    "Once upon a time",
    "  two  spaces\n\nand\ttabs \r\n",
    "<s></s><unk><|im_start|>user<|im_end|><|endoftext|><think>",
    "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xe4\xb8\xad\xe6\x96\x87 123456789 it's I'LL",
    "\xff\xfe invalid \xc3 utf-8 \xed\xa0\x80 \xf4\x90\x80\x80 \xe2\x82",
    std::string_view("nul\0byte", 8),
};

int fuzz_gguf(const uint8_t *data, size_t size) {
  std::vector<uint8_t> bytes(data, data + size);
  auto opened = gguf_file::from_bytes(std::move(bytes), "<fuzz>");
  if (!opened.is_ok())
    return 0;
  g_current = "the input's";
  auto built = tokenizer::from_gguf(*opened.value());
  if (!built.is_ok()) {
    if (built.error().message().empty())
      violated("from_gguf failed without a message", "");
    if (verbose())
      std::fprintf(stderr, "tokenizer_fuzz: no tokenizer: %s\n", built.error().message().c_str());
    return 0;
  }
  const tokenizer &tok = *built.value();
  for (std::string_view text : kFixedTexts)
    check_all_flags(tok, text, false);
  // The vocabulary itself, as raw token texts and as pieces.
  std::string raw, pieces;
  const int32_t n = std::min(tok.n_vocab(), 256);
  for (int32_t id = 0; id < n; ++id) {
    raw += tok.token_text(id);
    pieces += tok.token_to_piece(id, true);
  }
  check_all_flags(tok, raw, false);
  check_all_flags(tok, pieces, false);
  if (verbose())
    std::fprintf(stderr, "tokenizer_fuzz: built a tokenizer of %d tokens\n", tok.n_vocab());
  return 0;
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
  load_tokenizers();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size >= 4 && std::memcmp(data, "GGUF", 4) == 0)
    return fuzz_gguf(data, size);
  if (size == 0 || tokenizers().empty())
    return 0;
  const uint8_t selector = data[0];
  const loaded_tokenizer &t = tokenizers()[(selector & 0x3f) % tokenizers().size()];
  g_current = t.path;
  // An exact-size copy: ASan flags any read past the text's end.
  const std::string text(reinterpret_cast<const char *>(data) + 1, size - 1);
  check_encode(*t.tok, text, (selector & 0x40) != 0, (selector & 0x80) != 0, t.lossless);
  if (verbose())
    std::fprintf(stderr, "tokenizer_fuzz: %zu bytes through %s\n", text.size(), t.path.c_str());
  return 0;
}
