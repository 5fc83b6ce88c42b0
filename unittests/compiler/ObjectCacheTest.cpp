//===- ObjectCacheTest.cpp - the JIT's object cache
//-------------------------===//
//
// The key builder (fields cannot run into each other), the entries (a
// round trip; every kind of damage reported as Invalid with a reason, never
// a hit, never a crash), the atomic store, the directory rules, and
// HostJIT::load refusing what is not a usable object.
//
//===----------------------------------------------------------------------===//

#include "smepilot/Codegen/ObjectCache.h"
#include "smepilot/Codegen/HostJIT.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Support/xxhash.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

using namespace mlir;
using namespace mlir::smepilot;
namespace fs = llvm::sys::fs;

namespace {

CacheKey keyOf(llvm::StringRef name, llvm::StringRef value) {
  CacheKeyBuilder b;
  b.add(name, value);
  return b.final();
}

TEST(CacheKeyBuilder, StableForTheSameFields) {
  auto build = [] {
    CacheKeyBuilder b;
    b.add("model", "llama");
    b.add("n_ctx", int64_t(512));
    b.add("eps", 1e-5);
    b.add("dims", llvm::ArrayRef<int64_t>{64, 512});
    return b.final();
  };
  EXPECT_EQ(build(), build());
  EXPECT_EQ(build().hex().size(), 64u);
}

TEST(CacheKeyBuilder, FieldBoundariesAndKindsMatter) {
  // The same bytes split differently between name and value, or between
  // two fields, must not collide.
  EXPECT_NE(keyOf("ab", "c"), keyOf("a", "bc"));
  CacheKeyBuilder one, two;
  one.add("x", "ab");
  one.add("y", "");
  two.add("x", "a");
  two.add("y", "b");
  EXPECT_NE(one.final(), two.final());
  // A string "1" is not the integer 1; 0.0 is not -0.0; [1, 2] is not
  // [1] then 2.
  CacheKeyBuilder s, i;
  s.add("n", "1");
  i.add("n", int64_t(1));
  EXPECT_NE(s.final(), i.final());
  CacheKeyBuilder zero, negZero;
  zero.add("f", 0.0);
  negZero.add("f", -0.0);
  EXPECT_NE(zero.final(), negZero.final());
  CacheKeyBuilder a, b;
  a.add("d", llvm::ArrayRef<int64_t>{1, 2});
  b.add("d", llvm::ArrayRef<int64_t>{1});
  b.add("d", llvm::ArrayRef<int64_t>{2});
  EXPECT_NE(a.final(), b.final());
  // Every value change shows.
  EXPECT_NE(keyOf("cpu", "znver5"), keyOf("cpu", "znver4"));
}

TEST(CompilerBuildId, NonEmptyAndStable) {
  const std::string &id = getCompilerBuildId();
  EXPECT_FALSE(id.empty());
  EXPECT_EQ(id.find("unknown"), std::string::npos) << id;
  EXPECT_EQ(&id, &getCompilerBuildId());
}

TEST(DefaultObjectCacheDir, FollowsXdgThenHome) {
  std::optional<std::string> oldXdg, oldHome;
  if (const char *v = std::getenv("XDG_CACHE_HOME"))
    oldXdg = v;
  if (const char *v = std::getenv("HOME"))
    oldHome = v;
  setenv("XDG_CACHE_HOME", "/x/cache", 1);
  setenv("HOME", "/home/u", 1);
  EXPECT_EQ(getDefaultObjectCacheDir(), "/x/cache/smepilot");
  // A relative XDG_CACHE_HOME is ignored (XDG base directory spec).
  setenv("XDG_CACHE_HOME", "relative", 1);
  EXPECT_EQ(getDefaultObjectCacheDir(), "/home/u/.cache/smepilot");
  unsetenv("XDG_CACHE_HOME");
  EXPECT_EQ(getDefaultObjectCacheDir(), "/home/u/.cache/smepilot");
  unsetenv("HOME");
  EXPECT_EQ(getDefaultObjectCacheDir(), "");
  if (oldXdg)
    setenv("XDG_CACHE_HOME", oldXdg->c_str(), 1);
  if (oldHome)
    setenv("HOME", oldHome->c_str(), 1);
}

class ObjectCacheTest : public ::testing::Test {
protected:
  void SetUp() override {
    ASSERT_FALSE(fs::createUniqueDirectory("smepilot-object-cache", root));
    dir = (root + "/cache").str();
  }
  void TearDown() override { fs::remove_directories(root); }

  /// The names in the cache directory.
  std::vector<std::string> entries() {
    std::vector<std::string> names;
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; it != end && !ec;
         it.increment(ec))
      names.push_back(llvm::sys::path::filename(it->path()).str());
    return names;
  }
  void writeFile(const std::string &path, llvm::StringRef bytes) {
    std::error_code ec;
    llvm::raw_fd_ostream os(path, ec);
    ASSERT_FALSE(ec);
    os << bytes;
  }
  std::string readFile(const std::string &path) {
    auto buffer = llvm::MemoryBuffer::getFile(path);
    return buffer ? (*buffer)->getBuffer().str() : "";
  }

  llvm::SmallString<128> root;
  std::string dir;
  /// One object (what a one-thread compile stores), and two.
  std::vector<ObjectCode> object{{'\x7f', 'E', 'L', 'F', 1, 2, 3, 4, 5}};
  std::vector<ObjectCode> twoObjects{{'\x7f', 'E', 'L', 'F', 6, 7},
                                     {'\x7f', 'E', 'L', 'F', 8, 9, 10}};
  CacheKey key = keyOf("model", "a");
  CacheKey otherKey = keyOf("model", "b");
};

TEST_F(ObjectCacheTest, MissThenRoundTrip) {
  ObjectCache cache(dir);
  EXPECT_EQ(cache.lookup(key).kind, CacheLookup::Miss);
  ASSERT_FALSE(llvm::errorToBool(cache.store(key, object)));
  CacheLookup found = cache.lookup(key);
  ASSERT_EQ(found.kind, CacheLookup::Hit) << found.reason;
  EXPECT_EQ(std::vector<ObjectCode>(found.objects.begin(), found.objects.end()),
            object);
  EXPECT_EQ(cache.lookup(otherKey).kind, CacheLookup::Miss);
  // One entry, named by its key, and no temporary left behind.
  EXPECT_EQ(entries(), std::vector<std::string>{key.hex() + ".o"});
  EXPECT_EQ(cache.getEntryPath(key), dir + "/" + key.hex() + ".o");
  // Several objects come back as they went in, in order.
  ASSERT_FALSE(llvm::errorToBool(cache.store(otherKey, twoObjects)));
  found = cache.lookup(otherKey);
  ASSERT_EQ(found.kind, CacheLookup::Hit) << found.reason;
  EXPECT_EQ(std::vector<ObjectCode>(found.objects.begin(), found.objects.end()),
            twoObjects);
}

TEST_F(ObjectCacheTest, StoreReplacesAnEntryWhole) {
  ObjectCache cache(dir);
  ASSERT_FALSE(llvm::errorToBool(cache.store(key, object)));
  std::vector<ObjectCode> bigger{ObjectCode(100000, 'x')};
  ASSERT_FALSE(llvm::errorToBool(cache.store(key, bigger)));
  CacheLookup found = cache.lookup(key);
  ASSERT_EQ(found.kind, CacheLookup::Hit) << found.reason;
  ASSERT_EQ(found.objects.size(), 1u);
  EXPECT_EQ(found.objects[0].size(), bigger[0].size());
  // Nothing to store is an error, not an entry that loads nothing.
  EXPECT_TRUE(llvm::errorToBool(cache.store(key, {})));
  EXPECT_EQ(entries().size(), 1u);
}

TEST_F(ObjectCacheTest, EveryDamageIsInvalidWithAReason) {
  ObjectCache cache(dir);
  ASSERT_FALSE(llvm::errorToBool(cache.store(key, twoObjects)));
  const std::string path = cache.getEntryPath(key);
  const std::string good = readFile(path);
  ASSERT_EQ(good, ObjectCache::makeEntry(key, twoObjects));
  ASSERT_EQ(good.size(), ObjectCache::kHeaderSize + 2 * 8 +
                             twoObjects[0].size() + twoObjects[1].size());
  // Entries whose checksum holds but whose object table does not (written
  // by someone else): the checksum is made over the damaged payload.
  auto withPayload = [&](uint32_t count, llvm::ArrayRef<uint64_t> sizes,
                         size_t dataBytes) {
    std::string payload;
    for (uint64_t size : sizes) {
      char bytes[8];
      llvm::support::endian::write64le(bytes, size);
      payload.append(bytes, 8);
    }
    payload.append(dataBytes, 'o');
    std::string entry = good.substr(0, ObjectCache::kHeaderSize);
    llvm::support::endian::write32le(entry.data() + 12, count);
    llvm::support::endian::write64le(entry.data() + 48, payload.size());
    llvm::support::endian::write64le(
        entry.data() + 56, llvm::xxh3_64bits(llvm::arrayRefFromStringRef(
                               llvm::StringRef(payload))));
    return entry + payload;
  };

  struct damage {
    const char *what;
    std::string bytes;
    const char *reason;
  };
  std::string flipped = good;
  flipped.back() ^= 1;
  std::string badMagic = good;
  badMagic[0] = 'X';
  std::string badVersion = good;
  badVersion[8] = 9;
  std::string longer = good + "junk";
  std::vector<damage> cases = {
      {"empty", "", "truncated"},
      {"half a header", good.substr(0, 30), "truncated"},
      {"truncated object", good.substr(0, good.size() - 2), "header says"},
      {"trailing bytes", longer, "header says"},
      {"flipped object bit", flipped, "checksum"},
      {"foreign file", std::string(200, 'z'), "bad magic"},
      {"other format", badVersion, "entry format 9"},
      {"no objects", withPayload(0, {}, 0), "0 objects"},
      {"more objects than sizes", withPayload(5, {1}, 8), "5 objects"},
      {"an object past the end", withPayload(2, {4, 9}, 10),
       "object 1 of 2 is 9 bytes, past"},
      {"bytes after the objects", withPayload(1, {4}, 6),
       "2 payload bytes after the last object"},
  };
  for (const damage &d : cases) {
    writeFile(path, d.bytes);
    CacheLookup found = cache.lookup(key);
    EXPECT_EQ(found.kind, CacheLookup::Invalid) << d.what;
    EXPECT_NE(found.reason.find(d.reason), std::string::npos)
        << d.what << ": " << found.reason;
    EXPECT_TRUE(found.objects.empty()) << d.what;
  }
  // A whole entry of another key under this key's name.
  ASSERT_FALSE(llvm::errorToBool(cache.store(otherKey, object)));
  writeFile(path, readFile(cache.getEntryPath(otherKey)));
  CacheLookup found = cache.lookup(key);
  EXPECT_EQ(found.kind, CacheLookup::Invalid);
  EXPECT_NE(found.reason.find("key"), std::string::npos) << found.reason;
  // A directory where the entry should be.
  ASSERT_FALSE(fs::remove(path));
  ASSERT_FALSE(fs::create_directory(path));
  found = cache.lookup(key);
  EXPECT_EQ(found.kind, CacheLookup::Invalid);
  EXPECT_NE(found.reason.find("not a regular file"), std::string::npos);
  // ... which a store refuses to replace, with an error.
  EXPECT_TRUE(llvm::errorToBool(cache.store(key, object)));
}

TEST_F(ObjectCacheTest, StoreFailsCleanlyWhereNoDirectoryCanBe) {
  // The cache directory's parent is a file.
  writeFile((root + "/file").str(), "x");
  ObjectCache cache((root + "/file/cache").str());
  llvm::Error error = cache.store(key, object);
  ASSERT_TRUE(bool(error));
  EXPECT_NE(llvm::toString(std::move(error)).find("file/cache"),
            std::string::npos);
  EXPECT_EQ(cache.lookup(key).kind, CacheLookup::Invalid);
}

TEST(HostJITLoad, RefusesWhatIsNotAnObject) {
  for (std::string bytes :
       {std::string(), std::string("not an object"), std::string(64, '\0'),
        std::string("\x7f"
                    "ELF\x02\x01\x01",
                    7)}) {
    llvm::Expected<std::unique_ptr<HostJIT>> jit =
        HostJIT::load(llvm::ArrayRef<char>(bytes.data(), bytes.size()));
    ASSERT_FALSE(bool(jit)) << bytes.size();
    EXPECT_NE(llvm::toString(jit.takeError()), "");
  }
}

} // namespace
