// SMEPilot runtime: opening the files the tools read (the model, the prompt
// file, smepilot-synth's --tokenizer).
//
// Only regular files are read. A directory, a device, a socket or a FIFO is
// refused with a message saying what the path is; the open never waits (a
// FIFO without a writer would otherwise block the open forever).
#pragma once

#include "smepilot_rt/status.h"

#include <string>
#include <sys/types.h>

namespace smepilot::rt {

/// "a directory", "a character device", "a block device", "a FIFO",
/// "a socket", or "not a regular file" for anything else.
const char *file_kind_name(mode_t mode);

/// Opens `path` for reading (O_CLOEXEC) if it is a regular file: the file
/// descriptor, which the caller closes. Errors: "PATH: cannot open: REASON",
/// "PATH: is a FIFO, not a regular file".
result<int> open_input_file(const std::string &path);

/// The whole of the regular file `path`, as open_input_file opens it; read
/// errors name the path.
result<std::string> read_input_file(const std::string &path);

} // namespace smepilot::rt
