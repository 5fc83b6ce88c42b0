// SMEPilot runtime: the byte-level BPE tokenizer (tokenizer.ggml.model =
// "gpt2"), as used by GPT-2, Llama 3 and Qwen2/Qwen3.
//
// 1. Pre-tokenization: the pre-tokenizer's regular expression (selected by
//    tokenizer.ggml.pre) splits the text into pre-tokens: successive
//    leftmost matches; text between matches (which these patterns never
//    leave, except around invalid UTF-8) forms pre-tokens of its own. The
//    patterns need Unicode general categories (\p{L}, \p{N}) and the
//    lookahead in \s+(?!\S); they run on PCRE2 with PCRE2_UTF | PCRE2_UCP,
//    compiled once per tokenizer. Only well-formed UTF-8 is given to PCRE2:
//    each run of invalid bytes is a pre-token of its own, encoded as bytes.
// 2. Each pre-token's bytes are mapped to printable characters by GPT-2's
//    bytes_to_unicode table (so the space becomes "Ġ", the newline "Ċ"). With
//    ignore_merges (the Llama-3 pre-tokenizer), a pre-token that is itself a
//    vocabulary token is emitted whole.
// 3. The merges are applied to the pre-token's characters: always the
//    adjacent pair with the lowest merge rank (ties: the leftmost) until no
//    pair has one. The merge table is kept on token ids; merges whose parts or
//    result are not vocabulary tokens can never apply and are dropped when
//    loading (consistent vocabularies have none).
#include "strformat.h"
#include "tokenizer_internal.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <algorithm>
#include <array>

namespace smepilot::rt::detail {
namespace {

// Pre-tokenizer patterns (from the models' tokenizer.json files; the
// case-insensitive contraction group (?i:'s|...) is spelled out in ASCII so
// that only ASCII letters fold, as in llama.cpp).
constexpr const char *k_gpt2_regex =
    R"re('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)re";
constexpr const char *k_llama3_regex =
    R"re((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re";
constexpr const char *k_qwen2_regex =
    R"re((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re";

struct pre_tokenizer {
  const char *name; ///< Canonical name.
  std::initializer_list<std::string_view> aliases;
  const char *regex;
  bool ignore_merges;
};

const pre_tokenizer k_pre_tokenizers[] = {
    {"gpt-2", {"gpt-2", "default", ""}, k_gpt2_regex, false},
    {"llama-bpe", {"llama-bpe", "llama3", "llama-v3"}, k_llama3_regex, true},
    {"qwen2", {"qwen2"}, k_qwen2_regex, false},
};

// GPT-2's bytes_to_unicode: printable Latin-1 bytes map to themselves, the
// other 68 bytes to U+0100.. in byte order.
struct byte_table {
  static constexpr uint32_t k_limit = 256 + 68; ///< All mapped code points are below.
  std::array<uint32_t, 256> cp{};
  std::array<std::string, 256> utf8;
  std::array<int16_t, k_limit> byte{}; ///< Inverse; -1 for unmapped code points.
  byte_table() {
    byte.fill(-1);
    uint32_t extra = 0;
    for (uint32_t b = 0; b < 256; ++b) {
      const bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174;
      cp[b] = printable ? b : 256 + extra++;
      append_utf8(utf8[b], cp[b]);
      byte[cp[b]] = static_cast<int16_t>(b);
    }
  }
  /// Byte of code point `c`, or -1.
  int byte_of(uint32_t c) const { return c < k_limit ? byte[c] : -1; }
};

const byte_table &bytes() {
  static const byte_table t;
  return t;
}

struct merge_entry {
  int32_t rank;
  int32_t result;
};

uint64_t pair_key(int32_t a, int32_t b) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
}

struct bpe_symbol {
  int64_t prev; // 64-bit: no pre-token is too long
  int64_t next;
  int32_t id; ///< -1: not a token (its byte's character is missing from the vocabulary).
  bool alive;
};

struct bpe_bigram {
  int32_t rank;
  int64_t left;
  int64_t right;
  int32_t left_id;
  int32_t right_id;
  int32_t result;
};

// Lowest rank on top; among equal ranks the leftmost pair.
struct bpe_order {
  bool operator()(const bpe_bigram &a, const bpe_bigram &b) const {
    return a.rank > b.rank || (a.rank == b.rank && a.left > b.left);
  }
};

} // namespace

class bpe_model {
public:
  ~bpe_model() {
    if (re)
      pcre2_code_free(re);
  }
  pcre2_code *re = nullptr;
  std::unordered_map<uint64_t, merge_entry> merges;
  std::array<int32_t, 256> byte_id{}; ///< Token of each byte's character, or -1.
};

void destroy_bpe_model(bpe_model *m) { delete m; }

result<bpe_model_ptr> make_bpe_model(tokenizer::state &s, const std::vector<std::string> &merges) {
  const pre_tokenizer *pre = nullptr;
  for (const pre_tokenizer &p : k_pre_tokenizers)
    for (std::string_view a : p.aliases)
      if (a == s.pre)
        pre = &p;
  if (!pre) {
    std::string names;
    for (const pre_tokenizer &p : k_pre_tokenizers)
      for (std::string_view a : p.aliases)
        if (!a.empty())
          names += (names.empty() ? "" : ", ") + std::string(a);
    return status::error(s.name + ": unsupported pre-tokenizer tokenizer.ggml.pre = " +
                         quoted(s.pre) + " (supported: " + names + ")");
  }
  s.pre = pre->name;
  s.ignore_merges = pre->ignore_merges;

  bpe_model_ptr m(new bpe_model);
  int err = 0;
  PCRE2_SIZE err_off = 0;
  m->re = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pre->regex), PCRE2_ZERO_TERMINATED,
                        PCRE2_UTF | PCRE2_UCP, &err, &err_off, nullptr);
  if (!m->re) {
    PCRE2_UCHAR msg[256];
    pcre2_get_error_message(err, msg, sizeof(msg));
    return status::error(s.name + ": cannot compile the '" + pre->name +
                         "' pre-tokenizer pattern at offset " + std::to_string(err_off) + ": " +
                         reinterpret_cast<const char *>(msg) +
                         " (PCRE2 built without Unicode support?)");
  }

  m->merges.reserve(merges.size());
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const std::string &line = merges[rank];
    // The separator is the first space after the first character, so that a
    // left part may itself be a space (as llama.cpp reads merges).
    const size_t sep = line.find(' ', 1);
    if (sep == std::string::npos)
      return status::error(s.name + ": tokenizer.ggml.merges[" + std::to_string(rank) + "] = '" +
                           line + "' is not of the form 'left right'");
    const std::string_view left = std::string_view(line).substr(0, sep);
    const std::string_view right = std::string_view(line).substr(sep + 1);
    const int32_t a = s.find(left), b = s.find(right);
    if (a < 0 || b < 0)
      continue;
    std::string joined;
    joined.reserve(left.size() + right.size());
    joined.append(left).append(right);
    const int32_t r = s.find(joined);
    if (r < 0)
      continue;
    m->merges.emplace(pair_key(a, b), merge_entry{static_cast<int32_t>(rank), r});
  }
  for (int b = 0; b < 256; ++b)
    m->byte_id[b] = s.find(bytes().utf8[b]);
  return m;
}

namespace {

// BPE of one pre-token given as raw bytes.
void encode_word(const tokenizer::state &s, const bpe_model &m, std::string_view raw,
                 std::vector<int32_t> &out, std::string &word) {
  if (raw.empty())
    return;
  if (s.ignore_merges) {
    word.clear();
    for (char c : raw)
      word += bytes().utf8[static_cast<unsigned char>(c)];
    const int32_t id = s.find(word);
    if (id >= 0) {
      out.push_back(id);
      return;
    }
  }
  if (raw.size() == 1) {
    const int32_t id = m.byte_id[static_cast<unsigned char>(raw[0])];
    if (id >= 0)
      out.push_back(id);
    else if (s.unk >= 0)
      out.push_back(s.unk);
    return;
  }

  const auto n = static_cast<int64_t>(raw.size());
  std::vector<bpe_symbol> sym(raw.size());
  for (int64_t i = 0; i < n; ++i)
    sym[i] = {i - 1, i + 1 < n ? i + 1 : -1, m.byte_id[static_cast<unsigned char>(raw[i])], true};

  merge_pairs<bpe_bigram, bpe_order>(
      sym,
      [&](int64_t left, int64_t right) -> std::optional<bpe_bigram> {
        if (sym[left].id < 0 || sym[right].id < 0)
          return std::nullopt;
        auto it = m.merges.find(pair_key(sym[left].id, sym[right].id));
        if (it == m.merges.end())
          return std::nullopt;
        return bpe_bigram{it->second.rank, left,          right,
                          sym[left].id,    sym[right].id, it->second.result};
      },
      [&](const bpe_bigram &b) {
        bpe_symbol &l = sym[b.left];
        bpe_symbol &r = sym[b.right];
        // Stale: either side has changed since the pair was queued.
        if (!l.alive || !r.alive || l.next != b.right || l.id != b.left_id || r.id != b.right_id)
          return false;
        l.id = b.result;
        r.alive = false;
        return true;
      });

  for (int64_t i = 0; i != -1; i = sym[i].next) {
    if (sym[i].id >= 0)
      out.push_back(sym[i].id);
    else if (s.unk >= 0)
      out.push_back(s.unk);
  }
}

} // namespace

namespace {

// Pre-tokenizes one well-formed UTF-8 segment and encodes its pre-tokens.
void encode_valid(const tokenizer::state &s, const bpe_model &m, std::string_view seg,
                  pcre2_match_data *md, std::vector<int32_t> &out, std::string &word) {
  const auto *subject = reinterpret_cast<PCRE2_SPTR>(seg.data());
  const size_t n = seg.size();
  size_t gap = 0; // start of text not yet emitted
  size_t pos = 0; // where the next search starts
  while (pos < n) {
    // The segment was validated: no per-call UTF check (which would make
    // the loop quadratic in the text length).
    const int rc = pcre2_match(m.re, subject, n, pos, PCRE2_NO_UTF_CHECK, md, nullptr);
    if (rc < 0) // no further match, or a matching resource limit: the rest is one pre-token
      break;
    const PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
    const size_t a = ov[0], b = ov[1];
    if (b == a) { // cannot happen with these patterns; step over one character
      pos = a + std::max<size_t>(utf8_sequence_length(seg, a), 1);
      continue;
    }
    if (a > gap)
      encode_word(s, m, seg.substr(gap, a - gap), out, word);
    encode_word(s, m, seg.substr(a, b - a), out, word);
    gap = pos = b;
  }
  if (gap < n)
    encode_word(s, m, seg.substr(gap), out, word);
}

} // namespace

void bpe_encode(const tokenizer::state &s, std::string_view text, std::vector<int32_t> &out) {
  const bpe_model &m = *s.bpe;
  std::string word;
  pcre2_match_data *md = pcre2_match_data_create_from_pattern(m.re, nullptr);
  if (!md) { // out of memory: encode the text as one pre-token rather than fail
    encode_word(s, m, text, out, word);
    return;
  }
  // Well-formed runs go through the pre-tokenizer; each run of bytes that are
  // not well-formed UTF-8 is a pre-token of its own (regex matches never
  // span them, as with PCRE2_MATCH_INVALID_UTF).
  size_t i = 0;
  while (i < text.size()) {
    size_t j = i;
    while (j < text.size()) {
      const size_t len = utf8_sequence_length(text, j);
      if (len == 0)
        break;
      j += len;
    }
    if (j > i)
      encode_valid(s, m, text.substr(i, j - i), md, out, word);
    size_t k = j;
    while (k < text.size() && utf8_sequence_length(text, k) == 0)
      ++k;
    if (k > j)
      encode_word(s, m, text.substr(j, k - j), out, word);
    i = k;
  }
  pcre2_match_data_free(md);
}

std::string bpe_decode_text(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    const size_t len = utf8_sequence_length(text, i);
    if (len == 0) {
      out += text[i++];
      continue;
    }
    const int b = bytes().byte_of(decode_utf8(text, i, len));
    if (b >= 0)
      out += static_cast<char>(b);
    else
      out.append(text.substr(i, len));
    i += len;
  }
  return out;
}

} // namespace smepilot::rt::detail
