// The GGUF writer: layout, every way of supplying tensor data (owned,
// borrowed, streamed in chunks), deferred errors, and files on disk.
#include "gguf_test_util.h"

#include "smepilot_rt/gguf.h"
#include "smepilot_rt/gguf_writer.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <dirent.h>
#include <unistd.h>

using namespace smepilot::rt;
using smepilot::rt::test::gguf_bytes;

#define EXPECT_CONTAINS(text, part)                                                                \
  EXPECT_NE(std::string(text).find(part), std::string::npos)                                       \
      << "expected to find \"" << (part) << "\" in: " << (text)

namespace {

std::unique_ptr<gguf_file> reopen(const gguf_writer &w) {
  auto bytes = w.write_bytes();
  EXPECT_TRUE(bytes.is_ok()) << bytes.error().message();
  if (!bytes)
    return nullptr;
  EXPECT_EQ(bytes->size(), w.file_size());
  auto f = gguf_file::from_bytes(std::move(*bytes), "written.gguf");
  EXPECT_TRUE(f.is_ok()) << f.error().message();
  return f ? std::move(*f) : nullptr;
}

std::string temp_path(const char *stem) {
  return ::testing::TempDir() + stem + std::to_string(getpid()) + ".gguf";
}

/// Whether a temporary of `path` (PATH.tmp-XXXXXXXX, output_file.h) is left.
bool temporary_left(const std::string &path) {
  const size_t slash = path.rfind('/');
  const std::string dir = path.substr(0, slash), prefix = path.substr(slash + 1) + ".tmp-";
  DIR *d = opendir(dir.c_str());
  if (!d)
    return false;
  bool found = false;
  while (dirent *e = readdir(d))
    found = found || std::string(e->d_name).rfind(prefix, 0) == 0;
  closedir(d);
  return found;
}

} // namespace

// The exact bytes of a tiny file, written out by hand.
TEST(GgufWriter, ExactLayout) {
  gguf_writer w;
  w.add_u32("k", 7);
  w.add_tensor("w", ggml_type::f32, {2}, {1, 2, 3, 4, 5, 6, 7, 8});
  auto bytes = w.write_bytes();
  ASSERT_TRUE(bytes.is_ok());
  gguf_bytes want;
  want.header(1, 1).kv_u32("k", 7).tensor_info("w", {2}, 0, 0).pad_to(32);
  want.b.insert(want.b.end(), {1, 2, 3, 4, 5, 6, 7, 8});
  want.pad_to(32);
  EXPECT_EQ(*bytes, want.b);
  EXPECT_EQ(w.data_offset(), 96u);
  EXPECT_EQ(w.file_size(), 128u);
}

TEST(GgufWriter, EmptyFile) {
  gguf_writer w;
  auto f = reopen(w);
  ASSERT_TRUE(f);
  EXPECT_TRUE(f->metadata().empty());
  EXPECT_TRUE(f->tensors().empty());
}

TEST(GgufWriter, AllArrayTypesRoundTrip) {
  gguf_writer w;
  const std::vector<int8_t> i8 = {-1, 2};
  const std::vector<uint16_t> u16 = {65535};
  const std::vector<int16_t> i16 = {-32768};
  const std::vector<uint32_t> u32 = {0xffffffffu, 0};
  const std::vector<uint64_t> u64 = {1ull << 63};
  const std::vector<int64_t> i64 = {-(1ll << 62)};
  const std::vector<double> f64 = {0.1};
  const std::vector<std::string_view> sv = {"x", "yz"};
  const std::vector<std::string> empty_strings;
  w.add_array("i8", std::span<const int8_t>(i8));
  w.add_array("u16", std::span<const uint16_t>(u16));
  w.add_array("i16", std::span<const int16_t>(i16));
  w.add_array("u32", std::span<const uint32_t>(u32));
  w.add_array("u64", std::span<const uint64_t>(u64));
  w.add_array("i64", std::span<const int64_t>(i64));
  w.add_array("f64", std::span<const double>(f64));
  w.add_array("sv", std::span<const std::string_view>(sv));
  w.add_array("none", std::span<const std::string>(empty_strings));
  auto f = reopen(w);
  ASSERT_TRUE(f);
  EXPECT_EQ(*f->get_int_array("i8"), (std::vector<int64_t>{-1, 2}));
  EXPECT_EQ(*f->get_int_array("u16"), (std::vector<int64_t>{65535}));
  EXPECT_EQ(*f->get_int_array("i16"), (std::vector<int64_t>{-32768}));
  EXPECT_EQ(*f->get_int_array("u32"), (std::vector<int64_t>{0xffffffffll, 0}));
  EXPECT_FALSE(f->get_int_array("u64").is_ok()); // 2^63 does not fit int64
  EXPECT_EQ(f->array_elements(f->find("u64")->value)[0].u, 1ull << 63);
  EXPECT_EQ(*f->get_int_array("i64"), (std::vector<int64_t>{-(1ll << 62)}));
  EXPECT_EQ(f->find("f64")->value.array_type, gguf_type::float64);
  EXPECT_EQ(f->array_elements(f->find("f64")->value)[0].f, 0.1);
  EXPECT_EQ(*f->get_string_array("sv"), (std::vector<std::string_view>{"x", "yz"}));
  EXPECT_TRUE(f->get_string_array("none")->empty());
}

TEST(GgufWriter, BorrowedAndStreamedTensors) {
  // 5 MiB + 3 bytes: more than one 4 MiB fill chunk, and not a chunk multiple.
  const uint64_t n = (5u << 20) + 3;
  std::vector<uint8_t> borrowed(64);
  for (size_t i = 0; i < borrowed.size(); ++i)
    borrowed[i] = uint8_t(i * 3);
  gguf_writer w(64);
  w.add_tensor_ref("ref", ggml_type::i8, {64}, borrowed);
  std::vector<std::pair<uint64_t, size_t>> calls;
  w.add_tensor_stream("big", ggml_type::i8, {int64_t(n)},
                      [&](uint64_t offset, std::span<uint8_t> out) {
                        calls.emplace_back(offset, out.size());
                        for (size_t i = 0; i < out.size(); ++i)
                          out[i] = uint8_t((offset + i) * 7 + 1);
                        return status::ok();
                      });
  w.add_tensor("tail", ggml_type::i8, {1}, {42});
  auto f = reopen(w);
  ASSERT_TRUE(f);
  // Consecutive chunks covering the tensor exactly.
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0], (std::pair<uint64_t, size_t>{0, 4u << 20}));
  EXPECT_EQ(calls[1], (std::pair<uint64_t, size_t>{4u << 20, (1u << 20) + 3}));
  EXPECT_EQ(f->alignment(), 64u);
  EXPECT_EQ(*f->get_uint("general.alignment"), 64u);
  const gguf_tensor_info *ref = f->find_tensor("ref");
  ASSERT_NE(ref, nullptr);
  EXPECT_EQ(std::memcmp(ref->data, borrowed.data(), 64), 0);
  const gguf_tensor_info *big = f->find_tensor("big");
  ASSERT_NE(big, nullptr);
  ASSERT_EQ(big->n_bytes, n);
  for (uint64_t i = 0; i < n; i += 4099)
    ASSERT_EQ(big->data[i], uint8_t(i * 7 + 1)) << i;
  EXPECT_EQ(big->data[n - 1], uint8_t((n - 1) * 7 + 1));
  const gguf_tensor_info *tail = f->find_tensor("tail");
  ASSERT_NE(tail, nullptr);
  EXPECT_EQ(tail->offset % 64, 0u);
  EXPECT_EQ(tail->data[0], 42);
}

TEST(GgufWriter, QuantizedShapes) {
  gguf_writer w;
  EXPECT_EQ(gguf_writer::tensor_bytes(ggml_type::q4_0, {64, 3}), 2u * 18 * 3);
  EXPECT_EQ(gguf_writer::tensor_bytes(ggml_type::q6_k, {256, 2, 2}), 4u * 210);
  EXPECT_EQ(gguf_writer::tensor_bytes(ggml_type::q4_0, {48}), 0u);
  EXPECT_EQ(gguf_writer::tensor_bytes(ggml_type::f32, {1, 1, 1, 1, 1}), 0u);
  EXPECT_EQ(gguf_writer::tensor_bytes(ggml_type::f32, {1ll << 62, 4}), 0u);
  w.add_tensor("q", ggml_type::q4_k, {256, 2}, std::vector<uint8_t>(288));
  auto f = reopen(w);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->find_tensor("q")->n_bytes, 288u);
  EXPECT_EQ(f->find_tensor("q")->type, ggml_type::q4_k);
}

TEST(GgufWriter, ErrorsAreDeferredAndNamed) {
  {
    gguf_writer w;
    w.add_u32("k", 1);
    w.add_string("k", "again");
    w.add_u32("later", 2); // the first error is the one reported
    ASSERT_FALSE(w.error().is_ok());
    EXPECT_CONTAINS(w.error().message(), "key 'k' added twice");
    auto b = w.write_bytes();
    ASSERT_FALSE(b.is_ok());
    EXPECT_CONTAINS(b.error().message(), "key 'k' added twice");
  }
  {
    gguf_writer w;
    w.add_tensor("t", ggml_type::f32, {2}, std::vector<uint8_t>(8));
    w.add_tensor("t", ggml_type::f32, {2}, std::vector<uint8_t>(8));
    EXPECT_CONTAINS(w.error().message(), "tensor 't': added twice");
  }
  {
    gguf_writer w;
    w.add_tensor("t", ggml_type::f32, {3}, std::vector<uint8_t>(8));
    EXPECT_CONTAINS(w.error().message(), "tensor 't': 8 bytes given, f32 [3] takes 12");
  }
  {
    gguf_writer w;
    w.add_tensor("q", ggml_type::q8_0, {16}, std::vector<uint8_t>(17));
    EXPECT_CONTAINS(w.error().message(), "tensor 'q': invalid shape [16] for q8_0");
  }
  {
    gguf_writer w;
    w.add_tensor_stream("s", static_cast<ggml_type>(5), {4}, nullptr);
    EXPECT_CONTAINS(w.error().message(), "tensor 's': unknown ggml type id 5");
  }
  {
    gguf_writer w(48);
    EXPECT_CONTAINS(w.error().message(), "alignment 48 is not a non-zero power of two");
  }
  {
    gguf_writer w;
    w.add_tensor_stream("s", ggml_type::f32, {4}, [](uint64_t, std::span<uint8_t>) {
      return status::error("generator failed");
    });
    ASSERT_TRUE(w.error().is_ok());
    auto b = w.write_bytes();
    ASSERT_FALSE(b.is_ok());
    EXPECT_CONTAINS(b.error().message(), "tensor 's': generator failed");
  }
}

TEST(GgufWriter, RawValuesForCorruptFiles) {
  gguf_writer w;
  const uint8_t bad_bool[] = {3};
  w.add_raw("b", uint32_t(gguf_type::boolean), bad_bool);
  auto bytes = w.write_bytes();
  ASSERT_TRUE(bytes.is_ok());
  auto f = gguf_file::from_bytes(*bytes, "raw.gguf");
  ASSERT_FALSE(f.is_ok());
  EXPECT_CONTAINS(f.error().message(), "key 'b': bool of value 3");
}

TEST(GgufWriter, WritesFilesAtomically) {
  const std::string path = temp_path("gguf_writer_");
  gguf_writer w;
  w.add_string("general.architecture", "x");
  w.add_tensor("t", ggml_type::f16, {4}, std::vector<uint8_t>(8, 0x3c));
  ASSERT_TRUE(w.write_file(path).is_ok());
  EXPECT_NE(access(path.c_str(), F_OK), -1);
  EXPECT_FALSE(temporary_left(path));
  auto f = gguf_file::open(path);
  ASSERT_TRUE(f.is_ok()) << f.error().message();
  EXPECT_EQ((*f)->file_size(), w.file_size());
  EXPECT_EQ(*(*f)->get_string("general.architecture"), "x");

  // A failing generator leaves neither the file nor the temporary behind.
  std::remove(path.c_str());
  gguf_writer bad;
  bad.add_tensor_stream("s", ggml_type::f32, {4},
                        [](uint64_t, std::span<uint8_t>) { return status::error("out of ideas"); });
  status s = bad.write_file(path);
  ASSERT_FALSE(s.is_ok());
  EXPECT_EQ(access(path.c_str(), F_OK), -1);
  EXPECT_FALSE(temporary_left(path));

  status nodir = w.write_file("/nonexistent-dir/x.gguf");
  ASSERT_FALSE(nodir.is_ok());
  EXPECT_CONTAINS(nodir.message(),
                  "/nonexistent-dir/x.gguf: cannot create a temporary file in /nonexistent-dir");
}
