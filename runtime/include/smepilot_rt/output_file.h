// SMEPilot runtime: writing output files safely, and checking stdout.
//
// Every file a runtime tool writes (smepilot-run --logits-out, smepilot-synth
// -o, gguf_writer::write_file) goes through output_file, which keeps these
// rules (docs/tools.md, "Output files"):
//
//   - The target is checked before anything is written. A path that names the
//     same file (device and inode) as one of the run's inputs is refused, even
//     through a symlink or a hard link. A path that exists and is not a regular
//     file (a directory, a device such as /dev/null, a FIFO, a socket) is
//     refused. "-" is refused: tools that can write a stream handle it
//     themselves.
//   - A symlink is followed: the file it points to is replaced and the link
//     stays. A dangling symlink is refused.
//   - The bytes go to a fresh temporary file beside the target
//     ("TARGET.tmp-XXXXXXXX", created with O_EXCL, so it never reuses or
//     clobbers an existing file), which commit() syncs, closes and renames
//     onto the target: readers see the old file or the new one, never half of
//     it. An existing target's permission bits are kept.
//   - Any failure (create, write, sync, close, rename), or destroying the
//     object without commit(), removes the temporary and leaves the target as
//     it was. Every error names the path and says what failed (strerror).
//
//   auto out = output_file::create("logits.npy", {model_path});
//   if (!out) return out.take_error();
//   SMEPILOT_RT_RETURN_IF_ERROR((*out)->write(header.data(), header.size()));
//   SMEPILOT_RT_RETURN_IF_ERROR((*out)->commit());
//
// A process killed by a signal between create() and commit() can leave its
// temporary behind (the runtime installs no signal handlers).
#pragma once

#include "smepilot_rt/status.h"

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace smepilot::rt {

class output_file {
public:
  /// Checks `path` against the rules above (`inputs` are the files the run
  /// reads; paths that do not exist are ignored) and creates the temporary.
  static result<std::unique_ptr<output_file>> create(const std::string &path,
                                                     const std::vector<std::string> &inputs = {});

  output_file(const output_file &) = delete;
  output_file &operator=(const output_file &) = delete;
  /// Removes the temporary unless commit() succeeded.
  ~output_file();

  /// Appends `size` bytes. After an error the file is discarded and every
  /// later call fails.
  status write(const void *data, size_t size);
  /// Syncs, closes and renames the temporary onto the target.
  status commit();

  /// The path as given.
  const std::string &path() const { return path_; }
  /// The file the rename replaces (symlinks resolved).
  const std::string &target() const { return target_; }
  /// The temporary being written.
  const std::string &temp_path() const { return temp_; }

private:
  output_file() = default;
  status fail(status s);
  void discard();

  std::string path_, target_, temp_;
  int fd_ = -1;
  bool failed_ = false;
};

/// The checks of output_file::create without creating anything, for tools
/// that want to refuse a bad path before a long computation.
status check_output_path(const std::string &path, const std::vector<std::string> &inputs = {});

/// Flushes stdout and reports whether everything written to it arrived: an
/// error naming stdout and the reason (e.g. "No space left on device" for
/// `> /dev/full`). When the reader has gone (EPIPE, possible when SIGPIPE is
/// ignored), the process ends silently as SIGPIPE's default action would:
/// killed by SIGPIPE, status 141 in a shell. Call it after the last write to
/// stdout, and after each write whose failure should stop the work.
status flush_stdout();

/// Writes `text` to stdout and flushes it, with flush_stdout's handling of
/// errors (for output that streams, such as generated text).
status write_stdout(std::string_view text);

} // namespace smepilot::rt
