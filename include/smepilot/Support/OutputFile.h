//===- OutputFile.h - Output files written safely ---------------*- C++ -*-===//
//
// The compiler side's output files (smepilot-compile -o, the Roofline
// report, smepilot-run --emit-object and --dump-mlir through lib/Engine)
// follow the same rules as the runtime's (smepilot_rt/output_file.h,
// docs/tools.md "Output files"), built on llvm::sys::fs:
//
//  - a path naming the same file as an input (same device and inode, also
//    through a symlink or a hard link) is refused;
//  - an existing target that is not a regular file (directory, device such as
//    /dev/null, FIFO, socket) is refused, and so is "-": a tool that can
//    write a stream checks for "-" itself and uses flushStdout();
//  - a symlink is followed (the file it names is replaced, the link stays); a
//    dangling one is refused;
//  - the bytes go to a fresh temporary beside the target
//    (TARGET.tmp-XXXXXXXX, created exclusively, removed on SIGINT/SIGTERM
//    through llvm::sys::RemoveFileOnSignal) that commit() flushes, syncs,
//    closes and renames onto the target; an existing target's permissions
//    are kept;
//  - any failure, or destroying the OutputFile without commit(), removes the
//    temporary and leaves the target as it was. Errors are llvm::FileErrors:
//    "'PATH': what failed: why".
//
//===----------------------------------------------------------------------===//

#ifndef SMEPILOT_SUPPORT_OUTPUTFILE_H
#define SMEPILOT_SUPPORT_OUTPUTFILE_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"

#include <memory>
#include <string>

namespace mlir::smepilot {

/// An output file being written; see the file comment for the rules.
class OutputFile {
public:
  /// Checks `path` (against `inputs`, the files the tool reads; paths that
  /// do not exist are ignored) and creates its temporary.
  static llvm::Expected<std::unique_ptr<OutputFile>>
  create(llvm::StringRef path, llvm::ArrayRef<std::string> inputs = {});

  ~OutputFile();
  OutputFile(const OutputFile &) = delete;
  OutputFile &operator=(const OutputFile &) = delete;

  /// Where the bytes go (the temporary). Errors are reported by commit().
  llvm::raw_ostream &os();
  /// Flushes, syncs, closes and renames the temporary onto the target.
  llvm::Error commit();

  llvm::StringRef getPath() const { return path; }
  llvm::StringRef getTempPath() const { return tempPath; }

private:
  OutputFile() = default;
  llvm::Error fail(llvm::StringRef what, std::error_code ec);
  void discard();

  std::string path, target, tempPath;
  int fd = -1;
  std::unique_ptr<llvm::raw_fd_ostream> stream;
};

/// The checks of OutputFile::create without creating anything, to refuse a
/// bad path before a long computation.
llvm::Error checkOutputPath(llvm::StringRef path,
                            llvm::ArrayRef<std::string> inputs = {});

/// Creates `path`, lets `write` fill it, commits it.
llvm::Error
writeOutputFile(llvm::StringRef path, llvm::ArrayRef<std::string> inputs,
                llvm::function_ref<void(llvm::raw_ostream &)> write);

/// Flushes llvm::outs() and turns a write error (e.g. `> /dev/full`) into an
/// llvm::Error instead of LLVM's "IO failure on output stream" abort at exit.
llvm::Error flushStdout();

} // namespace mlir::smepilot

#endif // SMEPILOT_SUPPORT_OUTPUTFILE_H
