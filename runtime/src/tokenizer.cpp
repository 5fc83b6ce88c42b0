// SMEPilot runtime: the parts of the tokenizers common to both models —
// vocabulary validation and defaults, end-of-generation tokens, cutting
// special tokens out of the text, pieces, and the streaming detokenizer.
// The models themselves are in tokenizer_spm.cpp and tokenizer_bpe.cpp;
// reading GGUF metadata is in tokenizer_gguf.cpp.
#include "tokenizer_internal.h"

#include <algorithm>
#include <climits>
#include <cstdio>

namespace smepilot::rt {

size_t utf8_sequence_length(std::string_view s, size_t pos) {
  const size_t n = s.size();
  if (pos >= n)
    return 0;
  const auto b0 = static_cast<unsigned char>(s[pos]);
  if (b0 < 0x80)
    return 1;
  size_t len;
  unsigned char lo = 0x80, hi = 0xBF; // allowed range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    if (b0 == 0xE0)
      lo = 0xA0; // overlong
    else if (b0 == 0xED)
      hi = 0x9F; // surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    if (b0 == 0xF0)
      lo = 0x90; // overlong
    else if (b0 == 0xF4)
      hi = 0x8F; // > U+10FFFF
  } else {
    return 0;
  }
  if (pos + len > n)
    return 0;
  const auto b1 = static_cast<unsigned char>(s[pos + 1]);
  if (b1 < lo || b1 > hi)
    return 0;
  for (size_t k = 2; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[pos + k]);
    if (b < 0x80 || b > 0xBF)
      return 0;
  }
  return len;
}

namespace detail {

void append_utf8(std::string &out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

uint32_t decode_utf8(std::string_view s, size_t pos, size_t len) {
  const auto b = [&](size_t k) {
    return static_cast<uint32_t>(static_cast<unsigned char>(s[pos + k]));
  };
  switch (len) {
  case 1:
    return b(0);
  case 2:
    return ((b(0) & 0x1F) << 6) | (b(1) & 0x3F);
  case 3:
    return ((b(0) & 0x0F) << 12) | ((b(1) & 0x3F) << 6) | (b(2) & 0x3F);
  default:
    return ((b(0) & 0x07) << 18) | ((b(1) & 0x3F) << 12) | ((b(2) & 0x3F) << 6) | (b(3) & 0x3F);
  }
}

} // namespace detail

namespace {

constexpr std::string_view k_escaped_space = "\xE2\x96\x81"; // U+2581 "▁"

// Texts llama.cpp treats as end of generation (llama-vocab.cpp keeps the same
// list, matched on the token text because GGUF files have no key for most).
constexpr std::string_view k_eog_texts[] = {
    "<|eot_id|>",    "<|im_end|>", "<|end|>", "<|return|>", "<|call|>",        "<end_of_turn>",
    "<|endoftext|>", "<|eom_id|>", "<EOT>",   "_<EOT>",     "<|end_of_text|>", "<end_of_utterance>",
};
// Texts of the EOT token when tokenizer.ggml.eot_token_id is absent.
constexpr std::string_view k_eot_texts[] = {
    "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<EOT>", "_<EOT>",
};
// Fill-in-the-middle pad / repository / file separator tokens also end generation.
constexpr std::string_view k_fim_pad_texts[] = {"<|fim_pad|>", "<fim-pad>", "<PAD>"};
constexpr std::string_view k_fim_rep_texts[] = {"<|fim_repo|>", "<|repo_name|>", "<fim-repo>",
                                                "<REPO>"};
constexpr std::string_view k_fim_sep_texts[] = {"<|file_sep|>"};

template <size_t N>
int32_t find_first(const tokenizer::state &s, const std::string_view (&texts)[N]) {
  int32_t best = -1;
  for (std::string_view t : texts) {
    int32_t id = s.find(t);
    if (id >= 0 && (best < 0 || id < best))
      best = id;
  }
  return best;
}

bool is_special_type(token_type t) {
  return t == token_type::control || t == token_type::unknown || t == token_type::user_defined;
}

std::string model_name(tokenizer_model m) { return m == tokenizer_model::spm ? "llama" : "gpt2"; }

// "<0xNN>" -> NN, else -1.
int parse_byte_token(std::string_view t) {
  if (t.size() != 6 || t.substr(0, 3) != "<0x" || t[5] != '>')
    return -1;
  int v = 0;
  for (size_t k = 3; k < 5; ++k) {
    char c = t[k];
    int d = (c >= '0' && c <= '9')   ? c - '0'
            : (c >= 'A' && c <= 'F') ? c - 'A' + 10
            : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                                     : -1;
    if (d < 0)
      return -1;
    v = v * 16 + d;
  }
  return v;
}

struct fragment {
  int32_t token; // -1: text
  size_t off, len;
};

// Cuts the special tokens out of `text`, longest first: each special token
// splits every remaining text fragment at all its occurrences, left to right.
// This is llama.cpp's order; it differs from a leftmost-longest scan only when
// special strings overlap.
std::vector<fragment> partition_specials(const tokenizer::state &s, std::string_view text,
                                         bool parse_special) {
  std::vector<fragment> frags;
  if (text.empty())
    return frags;
  frags.push_back({-1, 0, text.size()});
  std::vector<fragment> next;
  for (int32_t id : s.specials) {
    const token_type t = s.type[id];
    if (!parse_special && t != token_type::user_defined)
      continue;
    const std::string_view needle = s.text[id];
    bool any = false;
    for (const fragment &f : frags) {
      if (f.token >= 0 || f.len < needle.size()) {
        continue;
      }
      if (text.substr(f.off, f.len).find(needle) != std::string_view::npos) {
        any = true;
        break;
      }
    }
    if (!any)
      continue;
    next.clear();
    for (const fragment &f : frags) {
      if (f.token >= 0) {
        next.push_back(f);
        continue;
      }
      const std::string_view body = text.substr(f.off, f.len);
      size_t start = 0;
      for (;;) {
        size_t m = body.find(needle, start);
        if (m == std::string_view::npos)
          break;
        if (m > start)
          next.push_back({-1, f.off + start, m - start});
        next.push_back({id, 0, 0});
        start = m + needle.size();
      }
      if (start < body.size())
        next.push_back({-1, f.off + start, body.size() - start});
    }
    frags.swap(next);
  }
  return frags;
}

} // namespace

// ---- construction --------------------------------------------------------------

tokenizer::tokenizer(std::unique_ptr<state> s) : s_(std::move(s)) {}
tokenizer::~tokenizer() = default;

result<std::unique_ptr<tokenizer>> tokenizer::from_vocab(tokenizer_vocab v) {
  const std::string &nm = v.name;
  const size_t n = v.tokens.size();
  if (n == 0)
    return status::error(nm + ": the vocabulary (tokenizer.ggml.tokens) is empty");
  if (n > static_cast<size_t>(INT32_MAX))
    return status::error(nm + ": tokenizer.ggml.tokens has " + std::to_string(n) +
                         " entries, more than token ids can address");
  if (!v.scores.empty() && v.scores.size() != n)
    return status::error(nm + ": tokenizer.ggml.scores has " + std::to_string(v.scores.size()) +
                         " entries but tokenizer.ggml.tokens has " + std::to_string(n));
  if (!v.types.empty() && v.types.size() != n)
    return status::error(nm + ": tokenizer.ggml.token_type has " + std::to_string(v.types.size()) +
                         " entries but tokenizer.ggml.tokens has " + std::to_string(n));

  auto s = std::make_unique<state>();
  s->name = nm;
  s->model = v.model;
  s->pre = v.model == tokenizer_model::bpe ? v.pre : std::string();
  s->text = std::move(v.tokens);
  s->score = v.scores.empty() ? std::vector<float>(n, 0.0f) : std::move(v.scores);
  s->type = v.types.empty() ? std::vector<token_type>(n, token_type::normal) : std::move(v.types);
  for (token_type &t : s->type)
    if (static_cast<int32_t>(t) < 0 || static_cast<int32_t>(t) > 6)
      t = token_type::undefined;
  s->index.reserve(n);
  for (size_t i = 0; i < n; ++i)
    if (!s->text[i].empty())
      s->index.emplace(s->text[i], static_cast<int32_t>(i)); // first id wins on duplicates

  // Special ids: explicit values must be in range; nullopt takes the default.
  const bool spm = v.model == tokenizer_model::spm;
  struct id_field {
    const char *key;
    std::optional<int32_t> value;
    int32_t fallback;
    int32_t *out;
  };
  const id_field ids[] = {
      {"bos_token_id", v.bos_id, spm ? 1 : -1, &s->bos},
      {"eos_token_id", v.eos_id, spm ? 2 : -1, &s->eos},
      {"unknown_token_id", v.unk_id, spm ? 0 : -1, &s->unk},
      {"eot_token_id", v.eot_id, -1, &s->eot},
      {"eom_token_id", v.eom_id, -1, &s->eom},
  };
  for (const id_field &f : ids) {
    int32_t id = f.value.value_or(f.fallback < static_cast<int64_t>(n) ? f.fallback : -1);
    if (id < -1 || id >= static_cast<int64_t>(n))
      return status::error(nm + ": tokenizer.ggml." + f.key + " = " + std::to_string(id) +
                           " is not a token id (the vocabulary has " + std::to_string(n) +
                           " tokens)");
    *f.out = id;
  }
  int32_t fim[3] = {v.fim_pad_id, v.fim_rep_id, v.fim_sep_id};
  const char *fim_keys[3] = {"fim_pad_token_id", "fim_rep_token_id", "fim_sep_token_id"};
  for (int k = 0; k < 3; ++k)
    if (fim[k] < -1 || fim[k] >= static_cast<int64_t>(n))
      return status::error(nm + ": tokenizer.ggml." + fim_keys[k] + " = " + std::to_string(fim[k]) +
                           " is not a token id (the vocabulary has " + std::to_string(n) +
                           " tokens)");

  if (spm) {
    s->add_bos = v.add_bos.value_or(true);
    s->add_space_prefix = v.add_space_prefix.value_or(true);
  } else {
    auto bpe = detail::make_bpe_model(*s, v.merges);
    if (!bpe)
      return bpe.take_error();
    s->bpe = std::move(bpe.value());
    // The Llama-3 family adds BOS unless the file says otherwise (llama.cpp).
    s->add_bos = v.add_bos.value_or(s->pre == "llama-bpe");
    // Byte-level BPE encodes spaces itself; a space prefix is never added.
    s->add_space_prefix = false;
  }
  s->add_eos = v.add_eos.value_or(false);
  if (s->add_bos && s->bos < 0)
    return status::error(
        nm + ": tokenizer.ggml.add_bos_token is true (" +
        (v.add_bos ? std::string("set in the file") : "the " + model_name(v.model) + " default") +
        ") but the vocabulary has no BOS token (tokenizer.ggml.bos_token_id)");
  if (s->add_eos && s->eos < 0)
    return status::error(nm + ": tokenizer.ggml.add_eos_token is true but the vocabulary has no "
                              "EOS token (tokenizer.ggml.eos_token_id)");

  // End-of-generation tokens: the ids given, plus tokens found by their text
  // as llama.cpp does. Tokens found by text are treated as control tokens.
  if (s->eot < 0)
    s->eot = find_first(*s, k_eot_texts);
  if (s->eom < 0)
    s->eom = s->find("<|eom_id|>");
  bool fim_by_text[3] = {false, false, false};
  const int32_t fim_found[3] = {find_first(*s, k_fim_pad_texts), find_first(*s, k_fim_rep_texts),
                                find_first(*s, k_fim_sep_texts)};
  for (int k = 0; k < 3; ++k) {
    if (fim[k] < 0 && fim_found[k] >= 0) {
      fim[k] = fim_found[k];
      fim_by_text[k] = true;
    }
  }
  std::vector<int32_t> eog;
  auto add_eog = [&](int32_t id, bool force_control) {
    if (id < 0)
      return;
    eog.push_back(id);
    if (force_control)
      s->type[id] = token_type::control;
  };
  for (std::string_view t : k_eog_texts)
    add_eog(s->find(t), true);
  add_eog(s->eos, false);
  add_eog(s->eot, false);
  add_eog(s->eom, false);
  for (int k = 0; k < 3; ++k)
    add_eog(fim[k], fim_by_text[k]);
  std::sort(eog.begin(), eog.end());
  eog.erase(std::unique(eog.begin(), eog.end()), eog.end());
  s->eog = std::move(eog);
  s->eog_set.assign(n, 0);
  for (int32_t id : s->eog)
    s->eog_set[id] = 1;

  for (size_t i = 0; i < n; ++i)
    if (is_special_type(s->type[i]) && !s->text[i].empty())
      s->specials.push_back(static_cast<int32_t>(i));
  std::sort(s->specials.begin(), s->specials.end(), [&](int32_t a, int32_t b) {
    const size_t la = s->text[a].size(), lb = s->text[b].size();
    return la != lb ? la > lb : a < b;
  });

  if (spm) {
    s->byte_token.assign(256, -1);
    static const char hex[] = "0123456789ABCDEF";
    for (int b = 0; b < 256; ++b) {
      const char buf[6] = {'<', '0', 'x', hex[b >> 4], hex[b & 15], '>'};
      int32_t id = s->find(std::string_view(buf, 6));
      if (id < 0)
        id = s->find(std::string_view(reinterpret_cast<const char *>(&b), 1));
      s->byte_token[b] = id >= 0 ? id : s->unk;
    }
  }
  return std::unique_ptr<tokenizer>(new tokenizer(std::move(s)));
}

// ---- encoding --------------------------------------------------------------------

std::vector<int32_t> tokenizer::encode(std::string_view text, bool add_special,
                                       bool parse_special) const {
  const state &s = *s_;
  std::vector<int32_t> out;
  out.reserve(text.size() / 3 + 4);
  if (add_special && s.add_bos)
    out.push_back(s.bos);
  const std::vector<fragment> frags = partition_specials(s, text, parse_special);
  bool prev_special = true; // SPM: a space is prefixed at the start and after each special token
  std::string buf;
  for (const fragment &f : frags) {
    if (f.token >= 0) {
      out.push_back(f.token);
      prev_special = true;
      continue;
    }
    const std::string_view body = text.substr(f.off, f.len);
    if (s.model == tokenizer_model::spm) {
      buf.clear();
      if (s.add_space_prefix && prev_special)
        buf += k_escaped_space;
      for (char c : body) {
        if (c == ' ')
          buf += k_escaped_space;
        else
          buf += c;
      }
      detail::spm_encode(s, buf, out);
    } else {
      detail::bpe_encode(s, body, out);
    }
    prev_special = false;
  }
  if (add_special && s.add_eos)
    out.push_back(s.eos);
  return out;
}

// ---- pieces ----------------------------------------------------------------------

std::string_view tokenizer::token_text(int32_t id) const {
  return is_valid(id) ? std::string_view(s_->text[id]) : std::string_view();
}

std::string tokenizer::token_to_piece(int32_t id, bool render_special) const {
  if (!is_valid(id))
    return {};
  const state &s = *s_;
  const std::string &t = s.text[id];
  switch (s.type[id]) {
  case token_type::control:
  case token_type::unknown:
    return render_special ? t : std::string();
  case token_type::user_defined:
    return t;
  case token_type::byte: {
    int b = parse_byte_token(t);
    if (b >= 0)
      return std::string(1, static_cast<char>(b));
    break; // not "<0xNN>": decode as a normal token
  }
  case token_type::normal:
    break;
  case token_type::unused:
  case token_type::undefined:
    return {};
  }
  if (s.model == tokenizer_model::bpe)
    return detail::bpe_decode_text(t);
  std::string piece;
  piece.reserve(t.size());
  for (size_t i = 0; i < t.size();) {
    if (t.compare(i, k_escaped_space.size(), k_escaped_space) == 0) {
      piece += ' ';
      i += k_escaped_space.size();
    } else {
      piece += t[i++];
    }
  }
  return piece;
}

std::string tokenizer::detokenize(std::span<const int32_t> ids, bool render_special) const {
  std::string out;
  for (size_t i = 0; i < ids.size(); ++i) {
    std::string piece = token_to_piece(ids[i], render_special);
    if (i == 0 && s_->add_space_prefix && ids[0] != s_->bos && !piece.empty() && piece[0] == ' ')
      piece.erase(0, 1);
    out += piece;
  }
  return out;
}

// ---- queries -------------------------------------------------------------------------

int32_t tokenizer::n_vocab() const { return static_cast<int32_t>(s_->text.size()); }
int32_t tokenizer::bos_id() const { return s_->bos; }
int32_t tokenizer::eos_id() const { return s_->eos; }
int32_t tokenizer::eot_id() const { return s_->eot; }
int32_t tokenizer::unk_id() const { return s_->unk; }
bool tokenizer::add_bos_default() const { return s_->add_bos; }
bool tokenizer::add_eos_default() const { return s_->add_eos; }
bool tokenizer::add_space_prefix() const { return s_->add_space_prefix; }
bool tokenizer::is_eog(int32_t id) const { return is_valid(id) && s_->eog_set[id] != 0; }
const std::vector<int32_t> &tokenizer::eog_ids() const { return s_->eog; }
token_type tokenizer::type(int32_t id) const {
  return is_valid(id) ? s_->type[id] : token_type::undefined;
}
tokenizer_model tokenizer::model() const { return s_->model; }
std::string_view tokenizer::pre() const { return s_->pre; }
int32_t tokenizer::find(std::string_view text) const { return s_->find(text); }

// ---- streaming detokenizer --------------------------------------------------------------

namespace {
constexpr std::string_view k_replacement = "\xEF\xBF\xBD"; // U+FFFD

// Allowed range of the byte after `lead` (Unicode Table 3-7), and the
// sequence length; len 0 for a byte that cannot start a sequence.
void lead_info(unsigned char lead, size_t &len, unsigned char &lo, unsigned char &hi) {
  lo = 0x80;
  hi = 0xBF;
  if (lead < 0x80)
    len = 1;
  else if (lead >= 0xC2 && lead <= 0xDF)
    len = 2;
  else if (lead >= 0xE0 && lead <= 0xEF) {
    len = 3;
    if (lead == 0xE0)
      lo = 0xA0;
    if (lead == 0xED)
      hi = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    len = 4;
    if (lead == 0xF0)
      lo = 0x90;
    if (lead == 0xF4)
      hi = 0x8F;
  } else
    len = 0;
}
} // namespace

detokenizer::detokenizer(const tokenizer &tok, detokenizer_options options)
    : tok_(&tok), options_(options) {}

std::string detokenizer::push(int32_t id) {
  std::string piece = tok_->token_to_piece(id, options_.render_special);
  if (first_) {
    first_ = false;
    if (options_.sequence_start && tok_->add_space_prefix() && id != tok_->bos_id() &&
        !piece.empty() && piece[0] == ' ')
      piece.erase(0, 1);
  }
  pending_ += piece;

  std::string out;
  size_t i = 0;
  const size_t n = pending_.size();
  while (i < n) {
    const auto lead = static_cast<unsigned char>(pending_[i]);
    size_t len;
    unsigned char lo, hi;
    lead_info(lead, len, lo, hi);
    if (len == 1) {
      out += pending_[i++];
      continue;
    }
    if (len == 0) {
      out += k_replacement;
      ++i;
      continue;
    }
    size_t k = 1;
    while (k < len && i + k < n) {
      const auto b = static_cast<unsigned char>(pending_[i + k]);
      const unsigned char l = k == 1 ? lo : 0x80, h = k == 1 ? hi : 0xBF;
      if (b < l || b > h)
        break;
      ++k;
    }
    if (k == len) {
      out.append(pending_, i, len);
      i += len;
    } else if (i + k == n) {
      break; // a valid prefix: wait for the rest
    } else {
      out += k_replacement; // maximal invalid subpart
      i += k;
    }
  }
  pending_.erase(0, i);
  return out;
}

std::string detokenizer::flush() {
  std::string out;
  if (!pending_.empty())
    out = std::string(k_replacement);
  pending_.clear();
  return out;
}

} // namespace smepilot::rt
