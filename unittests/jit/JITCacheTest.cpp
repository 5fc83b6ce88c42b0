// The JIT engine's object cache (lib/Engine/JITEngine.cpp, ObjectCache.h):
// the key moves with every ingredient and only with them, and an engine
// loaded from the cache computes exactly what a freshly compiled one does,
// also after its entry was damaged (recompiled and rewritten).
#include "smepilot/Engine/JITEngine.h"

#include "smepilot_rt/engine.h"
#include "smepilot_rt/ggml_types.h"
#include "smepilot_rt/gguf.h"
#include "smepilot_rt/gguf_writer.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <span>
#include <string>
#include <unistd.h>
#include <vector>

namespace rt = smepilot::rt;
namespace eng = smepilot::engine;
namespace stdfs = std::filesystem;

namespace {

std::string models_dir() { return SMEPILOT_MODELS_DIR; }

std::unique_ptr<rt::gguf_file> open_stories() {
  auto file = rt::gguf_file::open(models_dir() + "/stories260K.gguf");
  EXPECT_TRUE(file.is_ok()) << file.error().message();
  return file.is_ok() ? std::move(*file) : nullptr;
}

/// A copy of `src` with `edit_kv` deciding each metadata key's fate
/// (return false to write the key through add_* yourself) and `edit_tensor`
/// able to change a tensor's type and bytes.
using kv_editor = std::function<bool(const rt::gguf_kv &, rt::gguf_writer &)>;
using tensor_editor = std::function<void(
    const rt::gguf_tensor_info &, rt::ggml_type &, std::vector<uint8_t> &)>;
std::unique_ptr<rt::gguf_file> edited_copy(const rt::gguf_file &src,
                                           const kv_editor &edit_kv,
                                           const tensor_editor &edit_tensor) {
  rt::gguf_writer w(src.alignment());
  const auto &kvs = src.metadata();
  const uint64_t kv_end = src.tensors().empty()
                              ? src.data_offset()
                              : src.tensors().front().info_offset;
  for (size_t i = 0; i < kvs.size(); ++i) {
    if (kvs[i].key == "general.alignment")
      continue;
    if (edit_kv && !edit_kv(kvs[i], w))
      continue;
    // A key is its length (u64), its bytes, a u32 type id, then the value
    // up to the next key (or the tensor table).
    const uint64_t value = kvs[i].offset + 8 + kvs[i].key.size() + 4;
    const uint64_t end = i + 1 < kvs.size() ? kvs[i + 1].offset : kv_end;
    w.add_raw(kvs[i].key, uint32_t(kvs[i].value.type),
              src.bytes().subspan(value, end - value));
  }
  for (const rt::gguf_tensor_info &t : src.tensors()) {
    rt::ggml_type type = t.type;
    std::vector<uint8_t> bytes(t.data, t.data + t.n_bytes);
    if (edit_tensor)
      edit_tensor(t, type, bytes);
    w.add_tensor(t.name, type, t.dims, std::move(bytes));
  }
  EXPECT_TRUE(w.error().is_ok()) << w.error().message();
  auto image = w.write_bytes();
  EXPECT_TRUE(image.is_ok()) << image.error().message();
  if (!image.is_ok())
    return nullptr;
  auto file = rt::gguf_file::from_bytes(std::move(*image), "edited.gguf");
  EXPECT_TRUE(file.is_ok()) << file.error().message();
  return file.is_ok() ? std::move(*file) : nullptr;
}

std::string key_of(const rt::gguf_file &file, const rt::engine_options &o,
                   const eng::jit_cache_environment &env) {
  auto key = eng::jit_cache_key(file, o, env);
  EXPECT_TRUE(key.is_ok()) << key.error().message();
  return key.is_ok() ? *key : "";
}

rt::engine_options small_options() {
  rt::engine_options o;
  o.n_ctx = 64;
  o.n_batch = 8;
  return o;
}

TEST(JITCacheKey, StableForTheSameInputs) {
  auto file = open_stories();
  ASSERT_TRUE(file);
  const auto env = eng::jit_cache_environment::detect();
  const std::string key = key_of(*file, small_options(), env);
  EXPECT_EQ(key.size(), 64u);
  EXPECT_EQ(key, key_of(*file, small_options(), env));
  // Detected again, reopened, copied byte for byte: the same key.
  EXPECT_EQ(key, key_of(*file, small_options(),
                        eng::jit_cache_environment::detect()));
  EXPECT_EQ(key, key_of(*open_stories(), small_options(), env));
  auto copy = edited_copy(*file, {}, {});
  ASSERT_TRUE(copy);
  EXPECT_EQ(key, key_of(*copy, small_options(), env));
  // Options that do not change the code: threads, tracing.
  rt::engine_options o = small_options();
  o.n_threads = 7;
  o.trace = true;
  o.sme_workers = 1;
  EXPECT_EQ(key, key_of(*file, o, env));
}

TEST(JITCacheKey, ChangesWithEveryIngredient) {
  auto file = open_stories();
  ASSERT_TRUE(file);
  const auto env = eng::jit_cache_environment::detect();
  const std::string key = key_of(*file, small_options(), env);

  // The environment, one field at a time.
  std::vector<std::function<void(eng::jit_cache_environment &)>> env_edits = {
      [](auto &e) { e.cpu_name += "x"; },
      [](auto &e) { e.cpu_features += ",-avx512f"; },
      [](auto &e) { e.runtime_cpu += " amx_tile"; },
      [](auto &e) { e.llvm_version = "23.0.0"; },
      [](auto &e) { e.build_id += "0"; },
      // What HostTarget.h chose: the profile, the vector width, the
      // pipeline.
      [](auto &e) { e.target.profile = "xeon6-amx"; },
      [](auto &e) { e.target.vector_lanes = 8; },
      [](auto &e) { e.target.pipeline = "sme"; },
  };
  for (size_t i = 0; i < env_edits.size(); ++i) {
    eng::jit_cache_environment e = env;
    env_edits[i](e);
    EXPECT_NE(key, key_of(*file, small_options(), e)) << "env edit " << i;
  }
  // The options the module is built for: the context, the chunk, the
  // weights' and the activations' forms.
  auto f32 = eng::jit_cache_key(*file, small_options(), env,
                                /*f32_weights=*/true);
  ASSERT_TRUE(f32.is_ok());
  EXPECT_NE(key, *f32);
  rt::engine_options o = small_options();
  o.n_ctx = 128;
  EXPECT_NE(key, key_of(*file, o, env));
  o = small_options();
  o.n_batch = 16;
  EXPECT_NE(key, key_of(*file, o, env));
  o = small_options();
  o.f32_activations = true;
  EXPECT_NE(key, key_of(*file, o, env));
  // The model: a config value, a tensor's type.
  auto eps =
      edited_copy(*file,
                  [](const rt::gguf_kv &kv, rt::gguf_writer &w) {
                    if (kv.key != "llama.attention.layer_norm_rms_epsilon")
                      return true;
                    w.add_f32(kv.key, float(kv.value.f * 2));
                    return false;
                  },
                  {});
  ASSERT_TRUE(eps);
  EXPECT_NE(key, key_of(*eps, small_options(), env));
  auto f16 = edited_copy(*file, {},
                         [](const rt::gguf_tensor_info &t, rt::ggml_type &type,
                            std::vector<uint8_t> &bytes) {
                           if (t.name != "blk.0.ffn_up.weight" ||
                               t.type != rt::ggml_type::f32)
                             return;
                           std::vector<uint8_t> half(t.n_elements * 2);
                           for (uint64_t i = 0; i < t.n_elements; ++i) {
                             float f;
                             std::memcpy(&f, &bytes[i * 4], 4);
                             uint16_t h = rt::fp32_to_fp16(f);
                             std::memcpy(&half[i * 2], &h, 2);
                           }
                           type = rt::ggml_type::f16;
                           bytes = std::move(half);
                         });
  ASSERT_TRUE(f16);
  EXPECT_NE(key, key_of(*f16, small_options(), env));
}

TEST(JITCacheKey, IgnoresWeightDataAndTheTokenizer) {
  auto file = open_stories();
  ASSERT_TRUE(file);
  const auto env = eng::jit_cache_environment::detect();
  const std::string key = key_of(*file, small_options(), env);
  // Other weights: the compiled code binds them by name at load.
  auto scaled = edited_copy(*file, {},
                            [](const rt::gguf_tensor_info &t, rt::ggml_type &,
                               std::vector<uint8_t> &bytes) {
                              if (t.name == "output_norm.weight")
                                for (uint8_t &b : bytes)
                                  b ^= 0x01;
                            });
  ASSERT_TRUE(scaled);
  EXPECT_EQ(key, key_of(*scaled, small_options(), env));
  // Another BOS id: the tokenizer is not compiled.
  auto bos = edited_copy(*file,
                         [](const rt::gguf_kv &kv, rt::gguf_writer &w) {
                           if (kv.key != "tokenizer.ggml.bos_token_id")
                             return true;
                           w.add_u32(kv.key, uint32_t(kv.value.u + 1));
                           return false;
                         },
                         {});
  ASSERT_TRUE(bos);
  EXPECT_EQ(key, key_of(*bos, small_options(), env));
}

TEST(JITCacheKey, RefusesWhatTheEngineRefuses) {
  auto file = open_stories();
  ASSERT_TRUE(file);
  auto no_norm =
      edited_copy(*file,
                  [](const rt::gguf_kv &kv, rt::gguf_writer &) {
                    return kv.key != "llama.attention.layer_norm_rms_epsilon";
                  },
                  {});
  ASSERT_TRUE(no_norm);
  auto key = eng::jit_cache_key(*no_norm, small_options(),
                                eng::jit_cache_environment::detect());
  EXPECT_FALSE(key.is_ok());
}

/// Logits of the first 6 tokens, evaluated as one chunk and then one step.
std::vector<float> run(rt::engine &e) {
  const std::vector<int32_t> tokens = {1, 403, 407, 261, 378, 300};
  const size_t n_vocab = size_t(e.n_vocab());
  std::vector<float> all(2 * n_vocab);
  auto st = e.eval(std::span<const int32_t>(tokens.data(), 5), 0,
                   rt::logits_mode::last, all.data());
  EXPECT_TRUE(st.is_ok()) << st.message();
  st = e.eval(std::span<const int32_t>(tokens.data() + 5, 1), 5,
              rt::logits_mode::last, all.data() + n_vocab);
  EXPECT_TRUE(st.is_ok()) << st.message();
  return all;
}

TEST(JITCache, HitComputesWhatACompileComputes) {
  auto file = open_stories();
  ASSERT_TRUE(file);
  const stdfs::path dir = stdfs::temp_directory_path() /
                          ("smepilot-jit-cache-" + std::to_string(::getpid()));
  stdfs::remove_all(dir);
  eng::jit_engine_options with_cache;
  with_cache.use_cache = true;
  with_cache.cache_dir = dir.string();
  const rt::engine_options o = small_options();

  auto fresh = eng::load_jit_engine(*file, o, {});
  ASSERT_TRUE(fresh.is_ok()) << fresh.error().message();
  const std::vector<float> expected = run(**fresh);
  EXPECT_FALSE(stdfs::exists(dir)) << "the default must not use the cache";

  // Miss: compiled and stored.
  auto first = eng::load_jit_engine(*file, o, with_cache);
  ASSERT_TRUE(first.is_ok()) << first.error().message();
  EXPECT_EQ(run(**first), expected);
  auto key = eng::jit_cache_key(*file, o, eng::jit_cache_environment::detect());
  ASSERT_TRUE(key.is_ok());
  const stdfs::path entry = dir / (*key + ".o");
  ASSERT_TRUE(stdfs::is_regular_file(entry));
  const auto size = stdfs::file_size(entry);
  EXPECT_EQ(std::distance(stdfs::directory_iterator(dir),
                          stdfs::directory_iterator()),
            1);

  // Hit: the verbose line says so, and the logits are bit for bit equal.
  with_cache.verbose = true;
  testing::internal::CaptureStderr();
  auto second = eng::load_jit_engine(*file, o, with_cache);
  std::string log = testing::internal::GetCapturedStderr();
  ASSERT_TRUE(second.is_ok()) << second.error().message();
  EXPECT_NE(log.find("object cache hit, key " + key->substr(0, 16)),
            std::string::npos)
      << log;
  EXPECT_EQ(run(**second), expected);

  // A damaged entry: recompiled (same logits), and the entry rewritten.
  {
    std::fstream f(entry, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(std::streamoff(size / 2));
    f.put('\x55').put('\xaa');
  }
  testing::internal::CaptureStderr();
  auto third = eng::load_jit_engine(*file, o, with_cache);
  log = testing::internal::GetCapturedStderr();
  ASSERT_TRUE(third.is_ok()) << third.error().message();
  EXPECT_NE(log.find("invalid entry, recompiling"), std::string::npos) << log;
  EXPECT_NE(log.find("checksum"), std::string::npos) << log;
  EXPECT_EQ(run(**third), expected);
  testing::internal::CaptureStderr();
  auto fourth = eng::load_jit_engine(*file, o, with_cache);
  log = testing::internal::GetCapturedStderr();
  ASSERT_TRUE(fourth.is_ok()) << fourth.error().message();
  EXPECT_NE(log.find("object cache hit"), std::string::npos) << log;

  // --dump-mlir compiles even on a hit.
  with_cache.dump_mlir_dir = (dir / "dump").string();
  testing::internal::CaptureStderr();
  auto dumped = eng::load_jit_engine(*file, o, with_cache);
  log = testing::internal::GetCapturedStderr();
  ASSERT_TRUE(dumped.is_ok()) << dumped.error().message();
  EXPECT_EQ(log.find("object cache hit"), std::string::npos) << log;
  EXPECT_NE(log.find("LLVM"), std::string::npos) << log;
  stdfs::remove_all(dir);
}

} // namespace
