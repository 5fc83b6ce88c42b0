//===- ObjectCache.h - Compiled host objects kept between runs --*- C++ -*-===//
//
// The JIT engine compiles the same model the same way on every run unless
// something it depends on changes. This cache keeps the host object that
// HostJIT emitted (HostJIT::getObject) in a directory, one file per key, so
// that a later run loads it (HostJIT::load) instead of building the graph,
// running the pipeline and generating code again.
//
// The key is a SHA-256 over tagged, length-prefixed fields (CacheKeyBuilder):
// two different lists of fields never hash the same input. What goes in is
// the caller's business (lib/Engine/JITEngine.cpp lists it); what this file
// provides is the build's identity (getCompilerBuildId), which every key
// must include so that a rebuilt compiler never loads an object made by an
// older one.
//
// An entry is a 64-byte header followed by the payload: the objects' sizes,
// then the objects (HostJIT compiles a module in parts, one object each):
//   0  magic "SMEPOBJ\0"        8 bytes
//   8  format version (u32 LE)  currently 2 (1: one object, no sizes)
//  12  number of objects (u32 LE), at least 1
//  16  the key (32 bytes)
//  48  payload size (u64 LE)
//  56  xxh3-64 of the payload (u64 LE)
//  64  each object's size (u64 LE), then the objects back to back
// An entry whose file size, magic, version, key, checksum or object sizes
// are wrong is
// reported as invalid (with a reason) and never returned: the caller
// recompiles and overwrites it. Entries are written through OutputFile: a
// temporary in the same directory, renamed into place, so a reader sees a
// whole entry or none, and concurrent writers of one key leave one of
// their (identical) entries.
//
//===----------------------------------------------------------------------===//

#ifndef SMEPILOT_CODEGEN_OBJECTCACHE_H
#define SMEPILOT_CODEGEN_OBJECTCACHE_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/SHA256.h"

#include <array>
#include <cstdint>
#include <string>

namespace mlir::smepilot {

/// A cache key: a SHA-256 digest.
struct CacheKey {
  std::array<uint8_t, 32> bytes{};
  /// 64 lowercase hex digits (the entry's file name).
  std::string hex() const;
  bool operator==(const CacheKey &other) const = default;
};

/// Hashes named fields into a CacheKey. Each field is hashed as its name,
/// its kind and its value, each length-prefixed.
class CacheKeyBuilder {
public:
  void add(llvm::StringRef name, llvm::StringRef value);
  void add(llvm::StringRef name, int64_t value);
  /// By bit pattern: -0.0 and 0.0 (and NaN payloads) are different values.
  void add(llvm::StringRef name, double value);
  void add(llvm::StringRef name, llvm::ArrayRef<int64_t> values);
  /// The digest; the builder must not be used afterwards.
  CacheKey final();

private:
  void addBytes(llvm::StringRef bytes);
  llvm::SHA256 hasher;
};

/// What identifies this build of the compiler: the GNU build IDs (a hash of
/// the linked output that the linker writes into every ELF binary) of the
/// loaded objects that hold the code which compiles (this library, wherever
/// it is linked: the executable, or a shared library), libMLIR and libLLVM.
/// A binary without a build ID contributes a SHA-256 of its file instead.
/// Computed once per process. Why a build ID rather than, say, a
/// configure-time stamp: it changes exactly when the linked code changes,
/// whichever way the binary was rebuilt, and costs nothing to read.
const std::string &getCompilerBuildId();

/// $XDG_CACHE_HOME/smepilot, else $HOME/.cache/smepilot (a relative
/// XDG_CACHE_HOME is ignored, as the XDG spec says); "" if neither is set.
std::string getDefaultObjectCacheDir();

/// What ObjectCache::lookup found.
struct CacheLookup {
  enum Kind {
    Miss,    ///< no entry
    Hit,     ///< `objects` holds the entry's objects
    Invalid, ///< an entry that cannot be used; `reason` says why
  };
  Kind kind = Miss;
  llvm::SmallVector<llvm::SmallVector<char, 0>, 1> objects;
  std::string reason;
};

/// One cache directory.
class ObjectCache {
public:
  explicit ObjectCache(std::string dir) : dir(std::move(dir)) {}

  llvm::StringRef getDirectory() const { return dir; }
  /// DIR/<key hex>.o
  std::string getEntryPath(const CacheKey &key) const;

  /// Reads and checks the entry of `key`. Never fails: an unreadable or
  /// malformed entry is Invalid with a reason.
  CacheLookup lookup(const CacheKey &key) const;

  /// Writes the entry of `key` (creating the directory), atomically.
  llvm::Error store(const CacheKey &key,
                    llvm::ArrayRef<llvm::SmallVector<char, 0>> objects) const;

  /// The entry's bytes for `objects`: header and payload (exposed for tests).
  static std::string
  makeEntry(const CacheKey &key,
            llvm::ArrayRef<llvm::SmallVector<char, 0>> objects);
  static constexpr size_t kHeaderSize = 64;
  static constexpr uint32_t kFormatVersion = 2;

private:
  std::string dir;
};

} // namespace mlir::smepilot

#endif // SMEPILOT_CODEGEN_OBJECTCACHE_H
