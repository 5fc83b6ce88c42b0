//===- OutputFile.cpp - Output files written safely -----------------------===//
//
// See OutputFile.h. llvm::ToolOutputFile is not enough here: it opens the
// target itself (truncating the previous file before anything is written and
// writing into devices), and llvm::writeToOutput's temporary is renamed over
// whatever is at the path, with write errors ending in a fatal error.
//
//===----------------------------------------------------------------------===//

#include "smepilot/Support/OutputFile.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/Errc.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Signals.h"

#include <cassert>
#include <cerrno>
#include <unistd.h>

using namespace llvm;

namespace mlir::smepilot {
namespace {

Error fileError(StringRef path, const Twine &message,
                std::error_code ec = make_error_code(errc::invalid_argument)) {
  return createFileError(path, createStringError(ec, message));
}

const char *kindOf(sys::fs::file_type type) {
  switch (type) {
  case sys::fs::file_type::directory_file:
    return "a directory";
  case sys::fs::file_type::character_file:
    return "a character device";
  case sys::fs::file_type::block_file:
    return "a block device";
  case sys::fs::file_type::fifo_file:
    return "a FIFO";
  case sys::fs::file_type::socket_file:
    return "a socket";
  default:
    return "not a regular file";
  }
}

/// What the rename replaces (`path`, or the file its symlinks name), its
/// status in `st` when `exists`, after the checks of the rules.
Expected<std::string> checkTarget(StringRef path, ArrayRef<std::string> inputs,
                                  sys::fs::file_status &st, bool &exists) {
  if (path.empty())
    return createStringError(make_error_code(errc::invalid_argument),
                             "the output path is empty");
  if (path == "-")
    return fileError(path, "this output cannot go to standard output; give a "
                           "file path");
  sys::fs::file_status linkStatus;
  std::error_code ec = sys::fs::status(path, linkStatus, /*Follow=*/false);
  if (ec == errc::no_such_file_or_directory) {
    exists = false;
    return path.str();
  }
  if (ec)
    return fileError(path, "cannot check the output path: " + ec.message(), ec);
  exists = true;
  std::string target = path.str();
  st = linkStatus;
  if (linkStatus.type() == sys::fs::file_type::symlink_file) {
    if (std::error_code e = sys::fs::status(path, st))
      return fileError(path,
                       "is a symbolic link to a missing file (" + e.message() +
                           "); refusing to write through it",
                       e);
    SmallString<256> real;
    if (std::error_code e = sys::fs::real_path(path, real))
      return fileError(path, "cannot resolve the symbolic link: " + e.message(),
                       e);
    target = std::string(real);
  }
  for (const std::string &input : inputs) {
    sys::fs::file_status in;
    if (input.empty() || input == "-" || sys::fs::status(input, in))
      continue;
    if (in.getUniqueID() == st.getUniqueID())
      return fileError(path, "is the input file " + input +
                                 "; refusing to overwrite it");
  }
  if (st.type() != sys::fs::file_type::regular_file)
    return fileError(path, Twine("is ") + kindOf(st.type()) +
                               ", not a regular file; refusing to write to it");
  return target;
}

} // namespace

Error checkOutputPath(StringRef path, ArrayRef<std::string> inputs) {
  sys::fs::file_status st;
  bool exists = false;
  return checkTarget(path, inputs, st, exists).takeError();
}

Expected<std::unique_ptr<OutputFile>>
OutputFile::create(StringRef path, ArrayRef<std::string> inputs) {
  sys::fs::file_status st;
  bool exists = false;
  Expected<std::string> target = checkTarget(path, inputs, st, exists);
  if (!target)
    return target.takeError();
  std::unique_ptr<OutputFile> file(new OutputFile());
  file->path = path.str();
  file->target = std::move(*target);
  int fd = -1;
  SmallString<256> temp;
  StringRef dir = sys::path::parent_path(file->target);
  if (std::error_code ec =
          sys::fs::createUniqueFile(file->target + ".tmp-%%%%%%%%", fd, temp))
    return fileError(path,
                     "cannot create a temporary file in " +
                         (dir.empty() ? StringRef(".") : dir) + ": " +
                         ec.message(),
                     ec);
  file->tempPath = std::string(temp);
  sys::RemoveFileOnSignal(file->tempPath);
  file->fd = fd;
  // The stream never closes the descriptor: commit() syncs and closes it
  // itself, to see those errors before the rename.
  file->stream = std::make_unique<raw_fd_ostream>(fd, /*shouldClose=*/false);
  if (exists)
    if (std::error_code ec = sys::fs::setPermissions(fd, st.permissions()))
      return file->fail("cannot keep the permissions of the existing file", ec);
  return file;
}

OutputFile::~OutputFile() { discard(); }

raw_ostream &OutputFile::os() {
  assert(stream && "the file was committed or discarded");
  return *stream;
}

void OutputFile::discard() {
  if (stream) {
    stream->clear_error(); // a stream with an error must not abort
    stream.reset();
  }
  if (fd >= 0) {
    ::close(fd);
    fd = -1;
  }
  if (!tempPath.empty()) {
    sys::fs::remove(tempPath);
    sys::DontRemoveFileOnSignal(tempPath);
    tempPath.clear();
  }
}

Error OutputFile::fail(StringRef what, std::error_code ec) {
  discard();
  return fileError(path, what + ": " + ec.message(), ec);
}

Error OutputFile::commit() {
  if (!stream)
    return fileError(path, "the file was already committed or discarded");
  stream->flush();
  if (stream->has_error())
    return fail("write failed", stream->error());
  // fsync reports write-back errors (a full disk seen late, NFS) before the
  // rename makes the file visible.
  stream.reset();
  if (::fsync(fd) != 0 && errno != EINVAL)
    return fail("write failed",
                std::error_code(errno, std::generic_category()));
  const int closing = fd;
  fd = -1;
  if (::close(closing) != 0)
    return fail("close failed",
                std::error_code(errno, std::generic_category()));
  if (std::error_code ec = sys::fs::rename(tempPath, target))
    return fail("cannot rename " + tempPath + " into place", ec);
  sys::DontRemoveFileOnSignal(tempPath);
  tempPath.clear();
  return Error::success();
}

Error writeOutputFile(StringRef path, ArrayRef<std::string> inputs,
                      function_ref<void(raw_ostream &)> write) {
  Expected<std::unique_ptr<OutputFile>> file = OutputFile::create(path, inputs);
  if (!file)
    return file.takeError();
  write((*file)->os());
  return (*file)->commit();
}

Error flushStdout() {
  outs().flush();
  if (!outs().has_error())
    return Error::success();
  std::error_code ec = outs().error();
  outs().clear_error();
  return createStringError(ec,
                           "cannot write to standard output: " + ec.message());
}

} // namespace mlir::smepilot
