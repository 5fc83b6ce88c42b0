//===- ObjectCache.cpp - Compiled host objects kept between runs ----------===//
//
// See ObjectCache.h for the entry format and the key's rules. The build ID
// is read from the running process's own program headers
// (dl_iterate_phdr): the PT_NOTE segments of each loaded object hold its
// NT_GNU_BUILD_ID note, so no file is opened unless a binary has none.
//
//===----------------------------------------------------------------------===//

#include "smepilot/Codegen/ObjectCache.h"

#include "smepilot/Support/OutputFile.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/xxhash.h"
#include "llvm/TargetParser/Host.h"

#include <cstring>
#include <link.h>

using namespace mlir;
using namespace mlir::smepilot;

static constexpr char kMagic[8] = {'S', 'M', 'E', 'P', 'O', 'B', 'J', '\0'};

std::string CacheKey::hex() const {
  return llvm::toHex(llvm::ArrayRef<uint8_t>(bytes), /*LowerCase=*/true);
}

void CacheKeyBuilder::addBytes(llvm::StringRef bytes) {
  uint8_t size[8];
  llvm::support::endian::write64le(size, bytes.size());
  hasher.update(llvm::ArrayRef<uint8_t>(size));
  hasher.update(bytes);
}

void CacheKeyBuilder::add(llvm::StringRef name, llvm::StringRef value) {
  addBytes(name);
  addBytes("s");
  addBytes(value);
}

void CacheKeyBuilder::add(llvm::StringRef name, int64_t value) {
  addBytes(name);
  addBytes("i");
  uint8_t bytes[8];
  llvm::support::endian::write64le(bytes, uint64_t(value));
  addBytes(llvm::StringRef(reinterpret_cast<const char *>(bytes), 8));
}

void CacheKeyBuilder::add(llvm::StringRef name, double value) {
  addBytes(name);
  addBytes("f");
  uint64_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  uint8_t bytes[8];
  llvm::support::endian::write64le(bytes, bits);
  addBytes(llvm::StringRef(reinterpret_cast<const char *>(bytes), 8));
}

void CacheKeyBuilder::add(llvm::StringRef name,
                          llvm::ArrayRef<int64_t> values) {
  addBytes(name);
  addBytes("a");
  std::string bytes(values.size() * 8, '\0');
  for (auto [i, v] : llvm::enumerate(values))
    llvm::support::endian::write64le(&bytes[i * 8], uint64_t(v));
  addBytes(bytes);
}

CacheKey CacheKeyBuilder::final() {
  CacheKey key;
  std::array<uint8_t, 32> digest = hasher.final();
  key.bytes = digest;
  return key;
}

//===----------------------------------------------------------------------===//
// The build's identity
//===----------------------------------------------------------------------===//

namespace {
/// The loaded object holding `address`: its name and build ID ("" if it
/// has none).
struct LoadedObject {
  const void *address = nullptr;
  bool found = false;
  std::string name;
  std::string buildId;
};
} // namespace

static int findLoadedObject(struct dl_phdr_info *info, size_t, void *data) {
  auto *object = static_cast<LoadedObject *>(data);
  auto address = reinterpret_cast<uintptr_t>(object->address);
  bool contains = false;
  for (int i = 0; i < info->dlpi_phnum && !contains; ++i) {
    const ElfW(Phdr) &ph = info->dlpi_phdr[i];
    uintptr_t begin = info->dlpi_addr + ph.p_vaddr;
    contains = ph.p_type == PT_LOAD && address >= begin &&
               address < begin + ph.p_memsz;
  }
  if (!contains)
    return 0;
  object->found = true;
  object->name = info->dlpi_name ? info->dlpi_name : "";
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr) &ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_NOTE)
      continue;
    const char *p =
        reinterpret_cast<const char *>(info->dlpi_addr + ph.p_vaddr);
    const char *end = p + ph.p_memsz;
    while (p + sizeof(ElfW(Nhdr)) <= end) {
      ElfW(Nhdr) note;
      std::memcpy(&note, p, sizeof note);
      const char *name = p + sizeof note;
      const char *desc = name + llvm::alignTo(note.n_namesz, 4);
      const char *next = desc + llvm::alignTo(note.n_descsz, 4);
      if (next > end)
        break;
      if (note.n_type == NT_GNU_BUILD_ID && note.n_namesz == 4 &&
          std::memcmp(name, "GNU", 4) == 0) {
        object->buildId = llvm::toHex(llvm::StringRef(desc, note.n_descsz),
                                      /*LowerCase=*/true);
        return 1;
      }
      p = next;
    }
  }
  return 1;
}

/// "name=<build id>" of the object holding `address`, or "name=sha256:<hash
/// of its file>" when it has no build ID.
static std::string describeLoadedObject(const void *address) {
  LoadedObject object;
  object.address = address;
  dl_iterate_phdr(findLoadedObject, &object);
  if (!object.found)
    return "unknown";
  std::string path = object.name.empty() ? "/proc/self/exe" : object.name;
  std::string name = llvm::sys::path::filename(path).str();
  if (!object.buildId.empty())
    return name + "=" + object.buildId;
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> file =
      llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                  /*RequiresNullTerminator=*/false);
  if (!file)
    return name +
           "=unreadable:" + std::to_string(llvm::sys::Process::getProcessId());
  std::array<uint8_t, 32> digest =
      llvm::SHA256::hash(llvm::arrayRefFromStringRef((*file)->getBuffer()));
  return name + "=sha256:" +
         llvm::toHex(llvm::ArrayRef<uint8_t>(digest), /*LowerCase=*/true);
}

const std::string &mlir::smepilot::getCompilerBuildId() {
  static const std::string id = [] {
    // This library (static: the executable; shared: its .so), the MLIR and
    // the LLVM libraries it compiles with.
    const void *ours = reinterpret_cast<const void *>(&getCompilerBuildId);
    void (*mlirFunction)(DialectRegistry &) =
        &mlir::registerLLVMDialectTranslation;
    const void *mlirLib = reinterpret_cast<const void *>(mlirFunction);
    const void *llvmLib =
        reinterpret_cast<const void *>(&llvm::sys::getHostCPUName);
    llvm::SmallVector<std::string> parts;
    for (const void *address : {ours, mlirLib, llvmLib}) {
      std::string part = describeLoadedObject(address);
      if (!llvm::is_contained(parts, part))
        parts.push_back(part);
    }
    return llvm::join(parts, ";");
  }();
  return id;
}

std::string mlir::smepilot::getDefaultObjectCacheDir() {
  llvm::SmallString<256> dir;
  std::optional<std::string> xdg = llvm::sys::Process::GetEnv("XDG_CACHE_HOME");
  if (xdg && !xdg->empty() && llvm::sys::path::is_absolute(*xdg)) {
    dir = *xdg;
  } else {
    std::optional<std::string> home = llvm::sys::Process::GetEnv("HOME");
    if (!home || home->empty())
      return "";
    dir = *home;
    llvm::sys::path::append(dir, ".cache");
  }
  llvm::sys::path::append(dir, "smepilot");
  return std::string(dir);
}

//===----------------------------------------------------------------------===//
// Entries
//===----------------------------------------------------------------------===//

std::string ObjectCache::getEntryPath(const CacheKey &key) const {
  llvm::SmallString<256> path(dir);
  llvm::sys::path::append(path, key.hex() + ".o");
  return std::string(path);
}

static uint64_t checksum(llvm::StringRef bytes) {
  return llvm::xxh3_64bits(llvm::arrayRefFromStringRef(bytes));
}

std::string
ObjectCache::makeEntry(const CacheKey &key,
                       llvm::ArrayRef<llvm::SmallVector<char, 0>> objects) {
  std::string payload(8 * objects.size(), '\0');
  for (auto [i, object] : llvm::enumerate(objects)) {
    llvm::support::endian::write64le(payload.data() + 8 * i, object.size());
    payload.append(object.data(), object.size());
  }
  std::string entry(kHeaderSize, '\0');
  std::memcpy(entry.data(), kMagic, 8);
  llvm::support::endian::write32le(entry.data() + 8, kFormatVersion);
  llvm::support::endian::write32le(entry.data() + 12, objects.size());
  std::memcpy(entry.data() + 16, key.bytes.data(), 32);
  llvm::support::endian::write64le(entry.data() + 48, payload.size());
  llvm::support::endian::write64le(entry.data() + 56, checksum(payload));
  return entry + payload;
}

CacheLookup ObjectCache::lookup(const CacheKey &key) const {
  CacheLookup result;
  std::string path = getEntryPath(key);
  llvm::sys::fs::file_status status;
  if (std::error_code ec = llvm::sys::fs::status(path, status)) {
    if (ec != std::errc::no_such_file_or_directory) {
      result.kind = CacheLookup::Invalid;
      result.reason = "cannot stat it: " + ec.message();
    }
    return result;
  }
  auto invalid = [&](const llvm::Twine &why) {
    result.kind = CacheLookup::Invalid;
    result.reason = why.str();
    result.objects.clear();
    return result;
  };
  if (status.type() != llvm::sys::fs::file_type::regular_file)
    return invalid("not a regular file");
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> file =
      llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                  /*RequiresNullTerminator=*/false);
  if (!file)
    return invalid("cannot read it: " + file.getError().message());
  llvm::StringRef bytes = (*file)->getBuffer();
  if (bytes.size() < kHeaderSize)
    return invalid("truncated: " + llvm::Twine(bytes.size()) +
                   " bytes, shorter than the header");
  if (std::memcmp(bytes.data(), kMagic, 8) != 0)
    return invalid("not a smepilot object cache entry (bad magic)");
  uint32_t version = llvm::support::endian::read32le(bytes.data() + 8);
  if (version != kFormatVersion)
    return invalid("entry format " + llvm::Twine(version) + ", expected " +
                   llvm::Twine(kFormatVersion));
  if (std::memcmp(bytes.data() + 16, key.bytes.data(), 32) != 0)
    return invalid("the entry's key is not its file name's");
  uint64_t size = llvm::support::endian::read64le(bytes.data() + 48);
  if (size != bytes.size() - kHeaderSize)
    return invalid("the header says " + llvm::Twine(size) +
                   " payload bytes, the file has " +
                   llvm::Twine(bytes.size() - kHeaderSize));
  llvm::StringRef payload = bytes.drop_front(kHeaderSize);
  if (llvm::support::endian::read64le(bytes.data() + 56) != checksum(payload))
    return invalid("checksum mismatch (a damaged entry)");
  // The checksum holds, so the sizes are what a store wrote; still checked,
  // since the entry may have been written by anyone.
  uint32_t count = llvm::support::endian::read32le(bytes.data() + 12);
  if (count == 0 || count > payload.size() / 8)
    return invalid("the header says " + llvm::Twine(count) +
                   " objects, which the payload cannot hold");
  llvm::StringRef rest = payload.drop_front(8 * uint64_t(count));
  for (uint32_t i = 0; i < count; ++i) {
    uint64_t objectSize =
        llvm::support::endian::read64le(payload.data() + 8 * i);
    if (objectSize > rest.size())
      return invalid("object " + llvm::Twine(i) + " of " + llvm::Twine(count) +
                     " is " + llvm::Twine(objectSize) +
                     " bytes, past the payload's end");
    result.objects.emplace_back(rest.begin(), rest.begin() + objectSize);
    rest = rest.drop_front(objectSize);
  }
  if (!rest.empty())
    return invalid(llvm::Twine(rest.size()) +
                   " payload bytes after the last object");
  result.kind = CacheLookup::Hit;
  return result;
}

llvm::Error
ObjectCache::store(const CacheKey &key,
                   llvm::ArrayRef<llvm::SmallVector<char, 0>> objects) const {
  if (objects.empty())
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "no object to store");
  if (std::error_code ec = llvm::sys::fs::create_directories(dir))
    return llvm::createFileError(dir, ec);
  std::string entry = makeEntry(key, objects);
  return writeOutputFile(getEntryPath(key), {},
                         [&](llvm::raw_ostream &os) { os << entry; });
}
