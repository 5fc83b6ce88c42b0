// SMEPilot runtime: reads a tokenizer_vocab from GGUF metadata (the keys are
// listed in tokenizer.h) and builds the tokenizer from it.
#include "smepilot_rt/gguf.h"
#include "tokenizer_internal.h"

namespace smepilot::rt {
namespace {

constexpr uint64_t k_no_token = 0xFFFFFFFFu;

// An optional token id key: absent -> nullopt; 0xFFFFFFFF or -1 -> -1
// (none); other values are range-checked by tokenizer::from_vocab.
result<std::optional<int32_t>> read_id(const gguf_file &f, std::string_view key) {
  if (!f.find(key))
    return std::optional<int32_t>();
  result<int64_t> v = f.get_int(key);
  if (!v)
    return v.take_error();
  const int64_t id = *v;
  if (id == -1 || id == static_cast<int64_t>(k_no_token))
    return std::optional<int32_t>(-1);
  if (id < -1 || id > INT32_MAX)
    return status::error(f.path() + ": " + std::string(key) + " = " + std::to_string(id) +
                         " is not a token id");
  return std::optional<int32_t>(static_cast<int32_t>(id));
}

result<std::optional<bool>> read_flag(const gguf_file &f, std::string_view key) {
  if (!f.find(key))
    return std::optional<bool>();
  result<bool> v = f.get_bool(key);
  if (!v)
    return v.take_error();
  return std::optional<bool>(*v);
}

} // namespace

result<std::unique_ptr<tokenizer>> tokenizer::from_gguf(const gguf_file &f) {
  tokenizer_vocab v;
  v.name = f.path();

  if (!f.find("tokenizer.ggml.model"))
    return status::error(f.path() + ": no tokenizer: key tokenizer.ggml.model is missing");
  result<std::string_view> model = f.get_string("tokenizer.ggml.model");
  if (!model)
    return model.take_error();
  if (*model == "llama")
    v.model = tokenizer_model::spm;
  else if (*model == "gpt2")
    v.model = tokenizer_model::bpe;
  else
    return status::error(f.path() + ": unsupported tokenizer model tokenizer.ggml.model = '" +
                         std::string(*model) +
                         "' (supported: llama (SentencePiece-style), gpt2 (byte-level BPE))");

  if (v.model == tokenizer_model::bpe && f.find("tokenizer.ggml.pre")) {
    result<std::string_view> pre = f.get_string("tokenizer.ggml.pre");
    if (!pre)
      return pre.take_error();
    v.pre = std::string(*pre);
  }

  if (!f.find("tokenizer.ggml.tokens"))
    return status::error(f.path() + ": key tokenizer.ggml.tokens (the vocabulary) is missing");
  {
    result<std::vector<std::string_view>> tokens = f.get_string_array("tokenizer.ggml.tokens");
    if (!tokens)
      return tokens.take_error();
    v.tokens.assign(tokens->begin(), tokens->end());
  }
  if (f.find("tokenizer.ggml.scores")) {
    result<std::vector<float>> scores = f.get_f32_array("tokenizer.ggml.scores");
    if (!scores)
      return scores.take_error();
    v.scores = std::move(*scores);
  }
  if (f.find("tokenizer.ggml.token_type")) {
    result<std::vector<int64_t>> types = f.get_int_array("tokenizer.ggml.token_type");
    if (!types)
      return types.take_error();
    v.types.reserve(types->size());
    for (int64_t t : *types)
      v.types.push_back(t >= 0 && t <= 6 ? static_cast<token_type>(t) : token_type::undefined);
  }
  if (v.model == tokenizer_model::bpe) {
    if (!f.find("tokenizer.ggml.merges"))
      return status::error(f.path() +
                           ": key tokenizer.ggml.merges is missing (required for gpt2 tokenizers)");
    result<std::vector<std::string_view>> merges = f.get_string_array("tokenizer.ggml.merges");
    if (!merges)
      return merges.take_error();
    v.merges.assign(merges->begin(), merges->end());
  }

  struct id_key {
    const char *key;
    std::optional<int32_t> *opt;
    int32_t *plain;
  };
  const id_key ids[] = {
      {"tokenizer.ggml.bos_token_id", &v.bos_id, nullptr},
      {"tokenizer.ggml.eos_token_id", &v.eos_id, nullptr},
      {"tokenizer.ggml.unknown_token_id", &v.unk_id, nullptr},
      {"tokenizer.ggml.eot_token_id", nullptr, &v.eot_id},
      {"tokenizer.ggml.eom_token_id", nullptr, &v.eom_id},
      {"tokenizer.ggml.fim_pad_token_id", nullptr, &v.fim_pad_id},
      {"tokenizer.ggml.fim_rep_token_id", nullptr, &v.fim_rep_id},
      {"tokenizer.ggml.fim_sep_token_id", nullptr, &v.fim_sep_id},
  };
  for (const id_key &k : ids) {
    result<std::optional<int32_t>> id = read_id(f, k.key);
    if (!id)
      return id.take_error();
    if (k.opt)
      *k.opt = *id;
    else if (id->has_value())
      *k.plain = **id;
  }

  struct flag_key {
    const char *key;
    std::optional<bool> *out;
  };
  const flag_key flags[] = {
      {"tokenizer.ggml.add_bos_token", &v.add_bos},
      {"tokenizer.ggml.add_eos_token", &v.add_eos},
      {"tokenizer.ggml.add_space_prefix", &v.add_space_prefix},
  };
  for (const flag_key &k : flags) {
    result<std::optional<bool>> flag = read_flag(f, k.key);
    if (!flag)
      return flag.take_error();
    *k.out = *flag;
  }
  return from_vocab(std::move(v));
}

} // namespace smepilot::rt
