// The GGUF reader: values and tensors read back from files built in code,
// every class of corrupt file rejected with a message naming the file, the
// offset and the key or tensor, load modes, and the real test models.
#include "gguf_test_util.h"

#include "smepilot_rt/gguf.h"
#include "smepilot_rt/gguf_writer.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>
#include <sys/stat.h>
#include <unistd.h>

using namespace smepilot::rt;
using smepilot::rt::test::find_bytes;
using smepilot::rt::test::gguf_bytes;
using smepilot::rt::test::model_path;
using smepilot::rt::test::parse_error;

#define EXPECT_CONTAINS(text, part)                                                                \
  EXPECT_NE(std::string(text).find(part), std::string::npos)                                       \
      << "expected to find \"" << (part) << "\" in: " << (text)

namespace {

std::vector<uint8_t> f32_bytes(const std::vector<float> &v) {
  std::vector<uint8_t> b(v.size() * 4);
  std::memcpy(b.data(), v.data(), b.size());
  return b;
}

// A small file with one key of every type and three tensors.
gguf_writer small_writer(uint64_t alignment = 32) {
  gguf_writer w(alignment);
  w.add_string("general.architecture", "test");
  w.add_u8("t.u8", 200);
  w.add_i8("t.i8", -100);
  w.add_u16("t.u16", 60000);
  w.add_i16("t.i16", -30000);
  w.add_u32("t.u32", 4000000000u);
  w.add_i32("t.i32", -2000000000);
  w.add_u64("t.u64", 18000000000000000000ull);
  w.add_i64("t.i64", -9000000000000000000ll);
  w.add_f32("t.f32", 0.5f);
  w.add_f64("t.f64", -1e300);
  w.add_bool("t.bool", true);
  w.add_string("t.empty", "");
  const std::vector<std::string> strs = {"a", "", "héllo", std::string("nul\0x", 5)};
  w.add_array("t.strs", std::span<const std::string>(strs));
  const std::vector<int32_t> ints = {1, -2, 3};
  w.add_array("t.i32s", std::span<const int32_t>(ints));
  const std::vector<uint8_t> bytes = {7, 8};
  w.add_array("t.u8s", std::span<const uint8_t>(bytes));
  const std::vector<float> floats = {1.5f, -0.25f};
  w.add_array("t.f32s", std::span<const float>(floats));
  w.add_bool_array("t.bools", {true, false, true});
  w.add_tensor("a", ggml_type::f32, {4}, f32_bytes({1, 2, 3, 4}));
  w.add_tensor("b", ggml_type::f32, {3, 2}, f32_bytes({1, 2, 3, 4, 5, 6}));
  std::vector<uint8_t> q8(34 * 2, 0);
  q8[0] = 0x00;
  q8[1] = 0x3c; // d = 1.0
  q8[2] = 5;
  w.add_tensor("q", ggml_type::q8_0, {32, 2}, q8);
  EXPECT_TRUE(w.error().is_ok()) << w.error().message();
  return w;
}

std::vector<uint8_t> small_file(uint64_t alignment = 32) {
  auto bytes = small_writer(alignment).write_bytes();
  EXPECT_TRUE(bytes.is_ok());
  return std::move(*bytes);
}

// A minimal valid file: one key, one f32 tensor [4] at offset 0.
gguf_bytes minimal(uint64_t dim0 = 4) {
  gguf_bytes g;
  g.header(1, 1).kv_u32("k", 1).tensor_info("w", {dim0}, 0, 0).pad_to(32).zeros(16);
  return g;
}

} // namespace

TEST(Gguf, ReadsBackEveryValueType) {
  auto f = gguf_file::from_bytes(small_file(), "small.gguf");
  ASSERT_TRUE(f.is_ok()) << f.error().message();
  const gguf_file &g = **f;
  EXPECT_EQ(g.version(), 3u);
  EXPECT_EQ(g.alignment(), 32u);
  EXPECT_EQ(g.path(), "small.gguf");
  EXPECT_EQ(g.metadata().size(), 18u);
  EXPECT_EQ(*g.get_string("general.architecture"), "test");
  EXPECT_EQ(*g.get_uint("t.u8"), 200u);
  EXPECT_EQ(*g.get_int("t.i8"), -100);
  EXPECT_EQ(*g.get_uint("t.u16"), 60000u);
  EXPECT_EQ(*g.get_int("t.i16"), -30000);
  EXPECT_EQ(*g.get_uint("t.u32"), 4000000000u);
  EXPECT_EQ(*g.get_int("t.u32"), 4000000000);
  EXPECT_EQ(*g.get_int("t.i32"), -2000000000);
  EXPECT_EQ(*g.get_uint("t.u64"), 18000000000000000000ull);
  EXPECT_EQ(*g.get_int("t.i64"), -9000000000000000000ll);
  EXPECT_EQ(*g.get_float("t.f32"), 0.5);
  EXPECT_EQ(*g.get_float("t.f64"), -1e300);
  EXPECT_EQ(*g.get_bool("t.bool"), true);
  EXPECT_EQ(*g.get_string("t.empty"), "");
  auto strs = g.get_string_array("t.strs");
  ASSERT_TRUE(strs.is_ok());
  ASSERT_EQ(strs->size(), 4u);
  EXPECT_EQ((*strs)[0], "a");
  EXPECT_EQ((*strs)[1], "");
  EXPECT_EQ((*strs)[2], "héllo");
  EXPECT_EQ((*strs)[3], std::string_view("nul\0x", 5));
  EXPECT_EQ(*g.get_int_array("t.i32s"), (std::vector<int64_t>{1, -2, 3}));
  EXPECT_EQ(*g.get_int_array("t.u8s"), (std::vector<int64_t>{7, 8}));
  EXPECT_EQ(*g.get_f32_array("t.f32s"), (std::vector<float>{1.5f, -0.25f}));
  const gguf_kv *bools = g.find("t.bools");
  ASSERT_NE(bools, nullptr);
  EXPECT_EQ(bools->value.type, gguf_type::array);
  EXPECT_EQ(bools->value.array_type, gguf_type::boolean);
  auto elems = g.array_elements(bools->value);
  ASSERT_EQ(elems.size(), 3u);
  EXPECT_TRUE(elems[0].b);
  EXPECT_FALSE(elems[1].b);
  EXPECT_EQ(g.array_elements(g.find("t.strs")->value, 2).size(), 2u);
  EXPECT_EQ(g.array_elements(g.find("t.strs")->value, 2)[1].str, "");
  // Keys are in file order.
  EXPECT_EQ(g.metadata()[0].key, "general.architecture");
  EXPECT_EQ(g.metadata()[17].key, "t.bools");
}

TEST(Gguf, TypedAccessorErrorsNameFileAndKey) {
  auto f = gguf_file::from_bytes(small_file(), "small.gguf");
  ASSERT_TRUE(f.is_ok());
  const gguf_file &g = **f;
  auto missing = g.get_uint("nope");
  ASSERT_FALSE(missing.is_ok());
  EXPECT_CONTAINS(missing.error().message(), "small.gguf: key 'nope' not found");
  auto wrong = g.get_string("t.u32");
  ASSERT_FALSE(wrong.is_ok());
  EXPECT_CONTAINS(wrong.error().message(), "small.gguf: offset ");
  EXPECT_CONTAINS(wrong.error().message(), "key 't.u32' has type uint32, expected string");
  EXPECT_FALSE(g.get_uint("t.i8").is_ok()); // negative
  EXPECT_FALSE(g.get_int("t.u64").is_ok()); // > INT64_MAX
  EXPECT_FALSE(g.get_float("t.u32").is_ok());
  EXPECT_FALSE(g.get_bool("t.u8").is_ok());
  EXPECT_FALSE(g.get_string_array("t.i32s").is_ok());
  auto arr = g.get_f32_array("t.strs");
  ASSERT_FALSE(arr.is_ok());
  EXPECT_CONTAINS(arr.error().message(), "has type array of string, expected array of float32");
  EXPECT_FALSE(g.get_int_array("t.f32s").is_ok());
}

TEST(Gguf, TensorInfosAndData) {
  auto f = gguf_file::from_bytes(small_file(), "small.gguf");
  ASSERT_TRUE(f.is_ok());
  const gguf_file &g = **f;
  ASSERT_EQ(g.tensors().size(), 3u);
  const gguf_tensor_info *b = g.find_tensor("b");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->dims, (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(b->type, ggml_type::f32);
  EXPECT_EQ(b->n_elements, 6u);
  EXPECT_EQ(b->n_bytes, 24u);
  EXPECT_EQ(b->offset % 32, 0u);
  float v[6];
  std::memcpy(v, b->data, 24);
  EXPECT_EQ(v[5], 6.0f);
  EXPECT_EQ(b->data, g.bytes().data() + g.data_offset() + b->offset);
  const gguf_tensor_info *q = g.find_tensor("q");
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->n_bytes, 68u);
  EXPECT_EQ(q->n_elements, 64u);
  EXPECT_EQ(g.find_tensor("zz"), nullptr);
  EXPECT_EQ(g.data_offset() % 32, 0u);
}

TEST(Gguf, Version2IsAccepted) {
  std::vector<uint8_t> b = small_file();
  b[4] = 2;
  auto f = gguf_file::from_bytes(b);
  ASSERT_TRUE(f.is_ok()) << f.error().message();
  EXPECT_EQ((*f)->version(), 2u);
}

TEST(Gguf, CustomAlignment) {
  auto f = gguf_file::from_bytes(small_file(64), "a64.gguf");
  ASSERT_TRUE(f.is_ok()) << f.error().message();
  EXPECT_EQ((*f)->alignment(), 64u);
  EXPECT_EQ((*f)->data_offset() % 64, 0u);
  for (const gguf_tensor_info &t : (*f)->tensors())
    EXPECT_EQ(t.offset % 64, 0u) << t.name;
}

// Every strict prefix of a valid file that cuts into the header, the metadata,
// the tensor infos or any tensor's data must fail cleanly (no crash, no huge
// allocation); prefixes that only lose trailing padding are still valid.
TEST(GgufCorrupt, TruncatedAtEveryLength) {
  const std::vector<uint8_t> full = small_file();
  auto f = gguf_file::from_bytes(full);
  ASSERT_TRUE(f.is_ok());
  uint64_t data_end = 0;
  for (const gguf_tensor_info &t : (*f)->tensors())
    data_end = std::max(data_end, (*f)->data_offset() + t.offset + t.n_bytes);
  ASSERT_LE(data_end, full.size());
  for (size_t n = 0; n < full.size(); ++n) {
    std::vector<uint8_t> prefix(full.begin(), full.begin() + n);
    std::string err = parse_error(prefix, "cut.gguf");
    if (n < data_end) {
      ASSERT_FALSE(err.empty()) << "prefix of " << n << " bytes was accepted";
      ASSERT_EQ(err.rfind("cut.gguf: ", 0), 0u) << err;
    } else {
      ASSERT_TRUE(err.empty()) << n << ": " << err;
    }
  }
}

TEST(GgufCorrupt, MessageForTruncatedTensorData) {
  std::vector<uint8_t> b = minimal().b;
  b.resize(b.size() - 1);
  std::string err = parse_error(b, "stories.gguf");
  // The tensor info starts right after the header and the single key.
  EXPECT_CONTAINS(err, "stories.gguf: offset 41: tensor 'w': data [96, 112) is past the end of "
                       "the file (size 111)");
}

TEST(GgufCorrupt, BadMagic) {
  std::vector<uint8_t> b = small_file();
  b[0] = 'X';
  EXPECT_CONTAINS(parse_error(b), "t.gguf: offset 0: bad magic 'XGUF'");
  EXPECT_CONTAINS(parse_error({'G', 'G'}), "too short for the GGUF magic");
  EXPECT_CONTAINS(parse_error({}), "t.gguf: offset 0: file is 0 bytes");
}

TEST(GgufCorrupt, Versions) {
  std::vector<uint8_t> b = small_file();
  b[4] = 1;
  EXPECT_CONTAINS(parse_error(b), "offset 4: GGUF version 1 is not supported");
  b[4] = 4;
  EXPECT_CONTAINS(parse_error(b), "unsupported GGUF version 4, expected 2 or 3");
  b[4] = 0;
  b[7] = 3;
  EXPECT_CONTAINS(parse_error(b), "big-endian");
}

TEST(GgufCorrupt, HugeCounts) {
  {
    gguf_bytes g;
    g.header(0, ~0ull);
    EXPECT_CONTAINS(parse_error(g.b), "offset 16: metadata count n_kv = 18446744073709551615");
  }
  {
    gguf_bytes g;
    g.header(1ull << 60, 0);
    EXPECT_CONTAINS(parse_error(g.b), "offset 8: tensor count n_tensors = 1152921504606846976");
  }
  {
    gguf_bytes g; // key length far past the end
    g.header(0, 1).u64(1ull << 62).zeros(16);
    EXPECT_CONTAINS(parse_error(g.b), "offset 24: the key of metadata entry 0 has length "
                                      "4611686018427387904, but only 16 bytes remain");
  }
  {
    gguf_bytes g; // string value too long
    g.header(0, 1).str("k").u32(8).u64(1000).zeros(10);
    EXPECT_CONTAINS(parse_error(g.b), "the value of key 'k' has length 1000");
  }
  {
    gguf_bytes g; // array of u32 with a count whose byte size overflows
    g.header(0, 1).str("arr").u32(9).u32(4).u64(1ull << 62).zeros(8);
    EXPECT_CONTAINS(parse_error(g.b), "key 'arr': array of 4611686018427387904 uint32");
  }
  {
    gguf_bytes g; // array of strings with a huge count
    g.header(0, 1).str("toks").u32(9).u32(8).u64(~0ull).zeros(8);
    EXPECT_CONTAINS(parse_error(g.b), "key 'toks': array of 18446744073709551615 strings");
  }
  {
    gguf_bytes g; // one element of a string array runs past the end
    g.header(0, 1).str("toks").u32(9).u32(8).u64(2).str("ok").u64(99).zeros(4);
    EXPECT_CONTAINS(parse_error(g.b), "key 'toks': element 1 has length 99");
  }
}

TEST(GgufCorrupt, BadValues) {
  {
    gguf_bytes g;
    g.header(0, 1).str("k").u32(13).u32(0);
    EXPECT_CONTAINS(parse_error(g.b), "offset 33: key 'k': unknown value type 13");
  }
  {
    gguf_bytes g;
    g.header(0, 1).str("nest").u32(9).u32(9).u64(1).u32(4).u64(1).u32(5);
    EXPECT_CONTAINS(parse_error(g.b), "key 'nest': nested arrays are not supported");
  }
  {
    gguf_bytes g;
    g.header(0, 1).str("arr").u32(9).u32(77).u64(0);
    EXPECT_CONTAINS(parse_error(g.b), "key 'arr': unknown array element type 77");
  }
  {
    gguf_bytes g;
    g.header(0, 1).str("flag").u32(7).u8(2);
    EXPECT_CONTAINS(parse_error(g.b), "key 'flag': bool of value 2, expected 0 or 1");
  }
  {
    gguf_bytes g;
    g.header(0, 1).str("flags").u32(9).u32(7).u64(3).u8(1).u8(0).u8(9);
    EXPECT_CONTAINS(parse_error(g.b), "offset 55: key 'flags': element 2 is a bool of value 9");
  }
  {
    gguf_bytes g; // a key whose bytes are not printable is escaped in messages
    g.header(0, 1).str(std::string("bad\nkey", 7)).u32(4);
    EXPECT_CONTAINS(parse_error(g.b), "key 'bad\\x0akey': file ends inside the uint32 value");
  }
}

TEST(GgufCorrupt, DuplicateKey) {
  gguf_bytes g;
  g.header(0, 2).kv_u32("dup", 1).kv_u32("dup", 2);
  EXPECT_CONTAINS(parse_error(g.b), "offset 43: key 'dup' appears twice (first at offset 24)");
}

TEST(GgufCorrupt, Alignment) {
  for (uint32_t a : {0u, 3u, 48u, 0x80000001u}) {
    gguf_bytes g;
    g.header(0, 1).kv_u32("general.alignment", a);
    EXPECT_CONTAINS(parse_error(g.b), "key 'general.alignment' is " + std::to_string(a) +
                                          ", expected a non-zero power of two");
  }
  {
    gguf_bytes g;
    g.header(0, 1).kv_str("general.alignment", "32");
    EXPECT_CONTAINS(parse_error(g.b), "key 'general.alignment' has type string, expected uint32");
  }
  {
    gguf_bytes g;
    g.header(0, 1).str("general.alignment").u32(5).u32(uint32_t(-64));
    EXPECT_CONTAINS(parse_error(g.b), "key 'general.alignment' is -64");
  }
  {
    // A huge (valid) alignment puts the data section past the end of the file.
    gguf_bytes g;
    g.header(1, 1).str("general.alignment").u32(10).u64(1ull << 63);
    g.tensor_info("w", {4}, 0, 0);
    EXPECT_CONTAINS(parse_error(g.b), "tensor 'w': data [9223372036854775808, "
                                      "9223372036854775824) is past the end of the file");
  }
}

TEST(GgufCorrupt, TensorShapes) {
  struct tcase {
    std::vector<uint64_t> dims;
    uint32_t type;
    const char *message;
  };
  const tcase cases[] = {
      {{}, 0, "tensor 'w': 0 dimensions, expected 1 to 4"},
      {{1, 1, 1, 1, 1}, 0, "tensor 'w': 5 dimensions, expected 1 to 4"},
      {{4, 0}, 0, "tensor 'w': dimension 1 is 0, expected 1 to 2^63-1"},
      {{4, ~0ull}, 0, "tensor 'w': dimension 1 is 18446744073709551615"},
      {{1ull << 32, 1ull << 32}, 0, "tensor 'w': the element count overflows 64 bits"},
      {{1ull << 62, 4}, 0, "tensor 'w': the element count overflows 64 bits"},
      {{1ull << 62, 1}, 0, "tensor 'w': the byte size of f32 [4611686018427387904, 1] overflows"},
      {{16}, 2, "tensor 'w': ne[0] = 16 is not a multiple of the q4_0 block size 32"},
      {{4}, 4, "tensor 'w': unknown ggml type id 4"},
      {{4}, 99, "tensor 'w': unknown ggml type id 99"},
  };
  for (const tcase &c : cases) {
    gguf_bytes g;
    g.header(1, 0).tensor_info("w", c.dims, c.type, 0).pad_to(32).zeros(64);
    std::string err = parse_error(g.b);
    EXPECT_CONTAINS(err, c.message);
    EXPECT_CONTAINS(err, "t.gguf: offset ");
  }
}

// Types GGML defines but SMEPilot cannot dequantize (here iq4_nl, id 20,
// 32 elements in 18 bytes) do not stop a file from opening: the tensor is
// placed by its block layout and keeps its type; dequantizing it fails.
TEST(Gguf, TensorOfAnUndequantizableTypeOpens) {
  gguf_bytes g;
  g.header(2, 0)
      .tensor_info("w", {64, 2}, 20, 0)
      .tensor_info("v", {4}, 0, 96)
      .pad_to(32)
      .zeros(128);
  auto f = gguf_file::from_bytes(g.b, "iq.gguf");
  ASSERT_TRUE(f) << f.error().message();
  const gguf_tensor_info *w = (*f)->find_tensor("w");
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->type, ggml_type::iq4_nl);
  EXPECT_EQ(w->n_bytes, 4u * 18u);
  EXPECT_STREQ(ggml_type_name(w->type), "iq4_nl");
  float out[64];
  status s = dequantize_row(w->type, w->data, out, 64);
  ASSERT_FALSE(s.is_ok());
  EXPECT_CONTAINS(s.message(), "iq4_nl is not supported by SMEPilot");
}

TEST(GgufCorrupt, TensorOffsets) {
  {
    gguf_bytes g = minimal();
    // The offset field is the last 8 bytes of the tensor info.
    size_t off = find_bytes(g.b, "w") + 1 + 4 + 8 + 4;
    g.patch<uint64_t>(off, 4);
    EXPECT_CONTAINS(parse_error(g.b), "tensor 'w': data offset 4 is not a multiple of the "
                                      "alignment 32");
    g.patch<uint64_t>(off, 1ull << 40);
    EXPECT_CONTAINS(parse_error(g.b), "tensor 'w': data [1099511627872, 1099511627888) is past "
                                      "the end of the file (size 112)");
    // An offset whose end wraps around 2^64 is not "past the end" of
    // anything: the message says that it overflows, with the numbers as read.
    g.patch<uint64_t>(off, ~0ull - 31);
    std::string wrapped = parse_error(g.b);
    EXPECT_CONTAINS(wrapped, "tensor 'w': data offset 18446744073709551584 + 16 bytes from the "
                             "data section at 96 overflows 64 bits");
    EXPECT_EQ(wrapped.find("past the end"), std::string::npos) << wrapped;
  }
  {
    // Two tensors sharing bytes.
    gguf_bytes g;
    g.header(2, 0).tensor_info("a", {16}, 0, 0).tensor_info("b", {8}, 0, 32);
    g.pad_to(32).zeros(64);
    EXPECT_CONTAINS(parse_error(g.b), "tensor 'b': data [");
    EXPECT_CONTAINS(parse_error(g.b), "overlaps tensor 'a'");
  }
}

TEST(GgufCorrupt, DuplicateTensorName) {
  gguf_bytes g;
  g.header(2, 0).tensor_info("w", {4}, 0, 0).tensor_info("w", {4}, 0, 32).pad_to(32).zeros(64);
  EXPECT_CONTAINS(parse_error(g.b), "offset 57: tensor 'w' appears twice (first at offset 24)");
}

TEST(GgufCorrupt, NoTensorsMayEndBeforeThePadding) {
  // Vocabulary-only files (no tensors) are not padded after the metadata.
  gguf_bytes g;
  g.header(0, 1).kv_u32("k", 7);
  auto f = gguf_file::from_bytes(g.b);
  ASSERT_TRUE(f.is_ok()) << f.error().message();
  EXPECT_TRUE((*f)->tensors().empty());
}

// Random byte mutations of a valid file: each must parse or fail cleanly, and
// whatever parses must only point inside the image. (The libFuzzer target goes
// much further; this keeps a cheap version in every test run.)
TEST(GgufCorrupt, RandomMutationsNeverCrash) {
  const std::vector<uint8_t> base = small_file();
  std::mt19937 rng(12345);
  int accepted = 0;
  for (int iter = 0; iter < 3000; ++iter) {
    std::vector<uint8_t> b = base;
    const int n_mut = 1 + int(rng() % 4);
    for (int m = 0; m < n_mut; ++m) {
      size_t at = rng() % b.size();
      switch (rng() % 4) {
      case 0:
        b[at] = uint8_t(rng());
        break;
      case 1:
        b[at] ^= uint8_t(1u << (rng() % 8));
        break;
      case 2:
        b[at] = 0xff;
        break;
      default:
        b.resize(at);
        break;
      }
      if (b.empty())
        break;
    }
    auto f = gguf_file::from_bytes(b);
    if (!f)
      continue;
    ++accepted;
    const gguf_file &g = **f;
    for (const gguf_tensor_info &t : g.tensors()) {
      ASSERT_GE(t.data, g.bytes().data());
      ASSERT_LE(t.data + t.n_bytes, g.bytes().data() + g.bytes().size());
    }
    for (const gguf_kv &kv : g.metadata())
      g.array_elements(kv.value); // must stay in bounds
  }
  EXPECT_GT(accepted, 0);
}

// --- open() and load modes ----------------------------------------------------------

TEST(GgufOpen, ModeResolution) {
  const uint64_t gib = 1ull << 30;
  EXPECT_EQ(gguf_resolve_load_mode(gguf_load_mode::automatic, gib, 4 * gib), gguf_load_mode::read);
  EXPECT_EQ(gguf_resolve_load_mode(gguf_load_mode::automatic, 2 * gib, 4 * gib),
            gguf_load_mode::mmap);
  EXPECT_EQ(gguf_resolve_load_mode(gguf_load_mode::automatic, gib, 0), gguf_load_mode::mmap);
  EXPECT_EQ(gguf_resolve_load_mode(gguf_load_mode::mmap, 1, 4 * gib), gguf_load_mode::mmap);
  EXPECT_EQ(gguf_resolve_load_mode(gguf_load_mode::read, 8 * gib, gib), gguf_load_mode::read);
  EXPECT_STREQ(gguf_load_mode_name(gguf_load_mode::read), "read");
  EXPECT_STREQ(gguf_load_mode_name(gguf_load_mode::mmap), "mmap");
  EXPECT_STREQ(gguf_load_mode_name(gguf_load_mode::automatic), "automatic");
#ifdef __linux__
  EXPECT_GT(system_mem_available(), 0u);
#endif
}

TEST(GgufOpen, MissingFileAndDirectory) {
  auto f = gguf_file::open("/nonexistent/x.gguf");
  ASSERT_FALSE(f.is_ok());
  EXPECT_CONTAINS(f.error().message(), "/nonexistent/x.gguf: cannot open: ");
  auto d = gguf_file::open("/tmp");
  ASSERT_FALSE(d.is_ok());
  EXPECT_CONTAINS(d.error().message(), "/tmp: is a directory, not a regular file");
}

// A FIFO is refused at once: opening it must not wait for a writer (before,
// the open blocked forever and this test hung).
TEST(GgufOpen, FifoIsRefusedWithoutWaiting) {
  const std::string path = ::testing::TempDir() + "gguf_fifo_" + std::to_string(getpid()) + ".gguf";
  ::unlink(path.c_str());
  ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0) << std::strerror(errno);
  auto f = gguf_file::open(path);
  ::unlink(path.c_str());
  ASSERT_FALSE(f.is_ok());
  EXPECT_CONTAINS(f.error().message(), path + ": is a FIFO, not a regular file");
}

TEST(GgufOpen, EveryModeGivesTheSameImage) {
  const std::string path =
      ::testing::TempDir() + "gguf_open_modes_" + std::to_string(getpid()) + ".gguf";
  ASSERT_TRUE(small_writer().write_file(path).is_ok());
  std::vector<uint8_t> expected = small_file();
  for (gguf_load_mode mode :
       {gguf_load_mode::mmap, gguf_load_mode::read, gguf_load_mode::automatic}) {
    gguf_open_options o;
    o.mode = mode;
    o.progress = true; // small file: prints nothing
    auto f = gguf_file::open(path, o);
    ASSERT_TRUE(f.is_ok()) << f.error().message();
    EXPECT_NE((*f)->load_mode(), gguf_load_mode::automatic);
    if (mode != gguf_load_mode::automatic)
      EXPECT_EQ((*f)->load_mode(), mode);
    EXPECT_GE((*f)->load_seconds(), 0.0);
    auto bytes = (*f)->bytes();
    ASSERT_EQ(bytes.size(), expected.size());
    EXPECT_TRUE(std::equal(bytes.begin(), bytes.end(), expected.begin()));
    // Data read through open() is aligned to the file's alignment.
    for (const gguf_tensor_info &t : (*f)->tensors())
      EXPECT_EQ(reinterpret_cast<uintptr_t>(t.data) % 32, 0u) << t.name;
  }
  std::remove(path.c_str());
}

TEST(GgufOpen, EmptyAndCorruptFilesOnDisk) {
  const std::string path =
      ::testing::TempDir() + "gguf_empty_" + std::to_string(getpid()) + ".gguf";
  for (gguf_load_mode mode : {gguf_load_mode::mmap, gguf_load_mode::read}) {
    FILE *fp = std::fopen(path.c_str(), "wb");
    ASSERT_NE(fp, nullptr);
    std::fclose(fp);
    gguf_open_options o;
    o.mode = mode;
    auto f = gguf_file::open(path, o);
    ASSERT_FALSE(f.is_ok());
    EXPECT_CONTAINS(f.error().message(), path + ": offset 0: file is 0 bytes");
    std::vector<uint8_t> b = small_file();
    b[0] = 'g';
    fp = std::fopen(path.c_str(), "wb");
    std::fwrite(b.data(), 1, b.size(), fp);
    std::fclose(fp);
    f = gguf_file::open(path, o);
    ASSERT_FALSE(f.is_ok());
    EXPECT_CONTAINS(f.error().message(), "bad magic");
  }
  std::remove(path.c_str());
}

// --- the shared test models ------------------------------------------------------------

TEST(GgufModels, EveryModelOpens) {
  SMEPILOT_REQUIRE_MODELS();
  struct expect {
    const char *file;
    size_t n_tensors, n_kv;
  };
  for (expect e : {expect{"stories260K.gguf", 48, 19}, expect{"qwen3-tiny-f16.gguf", 24, 23},
                   expect{"qwen3-tiny-bf16.gguf", 24, 23}, expect{"qwen3-tiny-q8_0.gguf", 24, 24},
                   expect{"qwen3-tiny-q4_0.gguf", 24, 24}, expect{"qwen3moe-tiny-f16.gguf", 26, 26},
                   expect{"llama3-tiny-f16.gguf", 21, 23},
                   expect{"tokenizer-tests/ggml-vocab-llama-spm.gguf", 0, 22},
                   expect{"tokenizer-tests/ggml-vocab-gpt-2.gguf", 0, 16}}) {
    auto f = gguf_file::open(model_path(e.file));
    ASSERT_TRUE(f.is_ok()) << f.error().message();
    EXPECT_EQ((*f)->version(), 3u) << e.file;
    EXPECT_EQ((*f)->tensors().size(), e.n_tensors) << e.file;
    EXPECT_EQ((*f)->metadata().size(), e.n_kv) << e.file;
  }
}

TEST(GgufModels, Stories260KContents) {
  SMEPILOT_REQUIRE_MODELS();
  auto f = gguf_file::open(model_path("stories260K.gguf"));
  ASSERT_TRUE(f.is_ok()) << f.error().message();
  const gguf_file &g = **f;
  // Tokenizer keys come before general.architecture in this file.
  EXPECT_EQ(g.metadata()[0].key, "tokenizer.ggml.tokens");
  EXPECT_EQ(*g.get_string("general.architecture"), "llama");
  EXPECT_EQ(*g.get_uint("tokenizer.ggml.padding_token_id"), 0xffffffffu);
  auto tokens = g.get_string_array("tokenizer.ggml.tokens");
  ASSERT_TRUE(tokens.is_ok());
  ASSERT_EQ(tokens->size(), 512u);
  EXPECT_EQ((*tokens)[1], "<s>");
  EXPECT_EQ((*tokens)[3], "<0x00>");
  auto scores = g.get_f32_array("tokenizer.ggml.scores");
  ASSERT_TRUE(scores.is_ok());
  EXPECT_EQ(scores->size(), 512u);
  const gguf_tensor_info *embd = g.find_tensor("token_embd.weight");
  ASSERT_NE(embd, nullptr);
  EXPECT_EQ(embd->dims, (std::vector<int64_t>{64, 512}));
  EXPECT_EQ(embd->type, ggml_type::f32);
  // output.weight is a copy of token_embd.weight (models/README.md).
  const gguf_tensor_info *out = g.find_tensor("output.weight");
  ASSERT_NE(out, nullptr);
  EXPECT_EQ(std::memcmp(embd->data, out->data, embd->n_bytes), 0);
}

// The same model through the llama2.c checkpoint: token_embd.weight must equal
// the checkpoint's first weight block (a 7-int32 header, then the embedding).
TEST(GgufModels, Stories260KMatchesLlama2cCheckpoint) {
  SMEPILOT_REQUIRE_MODELS();
  auto f = gguf_file::open(model_path("stories260K.gguf"));
  ASSERT_TRUE(f.is_ok()) << f.error().message();
  FILE *fp = std::fopen(model_path("stories260K.bin").c_str(), "rb");
  ASSERT_NE(fp, nullptr);
  int32_t header[7];
  ASSERT_EQ(std::fread(header, 4, 7, fp), 7u);
  EXPECT_EQ(header[0], 64);  // dim
  EXPECT_EQ(header[5], 512); // vocab (positive: shared classifier)
  std::vector<float> embd(64 * 512);
  ASSERT_EQ(std::fread(embd.data(), 4, embd.size(), fp), embd.size());
  std::fclose(fp);
  const gguf_tensor_info *t = (*f)->find_tensor("token_embd.weight");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(std::memcmp(t->data, embd.data(), t->n_bytes), 0);
}

namespace {

/// A field of /proc/self/status in bytes ("RssAnon", "RssFile"), or -1.
int64_t status_bytes(const char *field) {
  FILE *fp = std::fopen("/proc/self/status", "r");
  if (!fp)
    return -1;
  char line[256];
  int64_t kib = -1;
  const size_t n = std::strlen(field);
  while (std::fgets(line, sizeof line, fp))
    if (std::strncmp(line, field, n) == 0 && line[n] == ':') {
      kib = std::strtoll(line + n + 1, nullptr, 10);
      break;
    }
  std::fclose(fp);
  return kib < 0 ? -1 : kib * 1024;
}

} // namespace

// A packed weight's source is not read again: release_pages drops its pages
// from resident memory (mmap: the file mapping's; read: the anonymous copy's,
// which the file's pages replace), yet every byte still reads back as the
// file's. Resident memory is /proc/self/status's RssFile (mmap) or RssAnon
// (read), before and after, around an 8 MiB tensor.
TEST(GgufReleasePages, PagesLeaveResidentMemoryAndReadBackTheSame) {
  const std::string path =
      ::testing::TempDir() + "gguf_release_" + std::to_string(getpid()) + ".gguf";
  const int64_t n = int64_t(2) << 20; // 8 MiB of f32
  std::vector<float> values(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    values[size_t(i)] = float(i % 1000) * 0.25f - 7.0f;
  {
    gguf_writer w;
    w.add_string("general.architecture", "test");
    w.add_tensor("big", ggml_type::f32, {n}, f32_bytes(values));
    ASSERT_TRUE(w.write_file(path).is_ok());
  }
  for (gguf_load_mode mode : {gguf_load_mode::mmap, gguf_load_mode::read}) {
    SCOPED_TRACE(gguf_load_mode_name(mode));
    gguf_open_options o;
    o.mode = mode;
    auto f = gguf_file::open(path, o);
    ASSERT_TRUE(f.is_ok()) << f.error().message();
    const gguf_tensor_info *t = (*f)->find_tensor("big");
    ASSERT_NE(t, nullptr);
    const float *data = reinterpret_cast<const float *>(t->data);
    double sum = 0; // every page resident
    for (int64_t i = 0; i < n; ++i)
      sum += data[i];
    const char *field = mode == gguf_load_mode::mmap ? "RssFile" : "RssAnon";
    const int64_t before = status_bytes(field);
    ASSERT_GE(before, 0);
    const uint64_t released = (*f)->release_pages(t->data, t->n_bytes);
    const uint64_t page = uint64_t(sysconf(_SC_PAGESIZE));
    EXPECT_EQ(released % page, 0u);
    EXPECT_LE(released, t->n_bytes);
    EXPECT_GE(released, t->n_bytes - 2 * page); // only the partial end pages stay
    const int64_t after = status_bytes(field);
    EXPECT_LE(after, before - int64_t(released) + (int64_t(1) << 20))
        << "before " << before << ", released " << released;
    // Read back: the file's bytes, faulted in again.
    EXPECT_EQ(std::memcmp(data, values.data(), size_t(t->n_bytes)), 0);
    double again = 0;
    for (int64_t i = 0; i < n; ++i)
      again += data[i];
    EXPECT_EQ(again, sum);
    // Nothing outside the image, nothing empty.
    EXPECT_EQ((*f)->release_pages(values.data(), t->n_bytes), 0u);
    EXPECT_EQ((*f)->release_pages(t->data, 0), 0u);
  }
  std::remove(path.c_str());
  // An image from bytes owns no file: nothing to release.
  std::vector<uint8_t> b = small_file();
  auto mem = gguf_file::from_bytes(b);
  ASSERT_TRUE(mem.is_ok());
  const gguf_tensor_info *a = (*mem)->find_tensor("a");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ((*mem)->release_pages(a->data, a->n_bytes), 0u);
}
