// SMEPilot runtime: output files written through a temporary and renamed into
// place, and stdout write errors (see output_file.h).
#include "smepilot_rt/output_file.h"

#include "smepilot_rt/input_file.h"

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <random>
#include <sys/stat.h>
#include <unistd.h>

namespace smepilot::rt {

namespace {

std::string errno_text(int err) { return std::strerror(err); }

const char *file_kind(mode_t mode) { return file_kind_name(mode); }

/// What the rename has to replace: `path`, or the file its symlinks name.
/// Fills `st` (valid when `exists`) for the checks.
result<std::string> resolve_target(const std::string &path, struct stat &st, bool &exists) {
  if (path.empty())
    return status::error("the output path is empty");
  if (path == "-")
    return status::error("'-': this output cannot go to standard output; give a file path");
  struct stat lst;
  if (::lstat(path.c_str(), &lst) != 0) {
    if (errno != ENOENT)
      return status::error(path + ": cannot check the output path: " + errno_text(errno));
    exists = false;
    return path;
  }
  exists = true;
  if (!S_ISLNK(lst.st_mode)) {
    st = lst;
    return path;
  }
  if (::stat(path.c_str(), &st) != 0)
    return status::error(path + ": is a symbolic link to a missing file (" + errno_text(errno) +
                         "); refusing to write through it");
  char *real = ::realpath(path.c_str(), nullptr);
  if (!real)
    return status::error(path + ": cannot resolve the symbolic link: " + errno_text(errno));
  std::string target = real;
  std::free(real);
  return target;
}

status check_target(const std::string &path, const struct stat &st, bool exists,
                    const std::vector<std::string> &inputs) {
  if (!exists)
    return status::ok();
  for (const std::string &input : inputs) {
    struct stat in;
    if (input.empty() || input == "-" || ::stat(input.c_str(), &in) != 0)
      continue;
    if (in.st_dev == st.st_dev && in.st_ino == st.st_ino)
      return status::error(path + ": is the input file " + input + "; refusing to overwrite it");
  }
  if (!S_ISREG(st.st_mode))
    return status::error(path + ": is " + file_kind(st.st_mode) +
                         ", not a regular file; refusing to write to it");
  return status::ok();
}

std::string directory_of(const std::string &path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos)
    return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

[[noreturn]] void die_of_sigpipe() {
  // The reader has gone: end as a write with SIGPIPE's default action ends.
  std::signal(SIGPIPE, SIG_DFL);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGPIPE);
  sigprocmask(SIG_UNBLOCK, &set, nullptr);
  std::raise(SIGPIPE);
  _exit(128 + SIGPIPE); // not reached
}

} // namespace

status check_output_path(const std::string &path, const std::vector<std::string> &inputs) {
  struct stat st{};
  bool exists = false;
  result<std::string> target = resolve_target(path, st, exists);
  if (!target)
    return target.take_error();
  return check_target(path, st, exists, inputs);
}

result<std::unique_ptr<output_file>> output_file::create(const std::string &path,
                                                         const std::vector<std::string> &inputs) {
  struct stat st{};
  bool exists = false;
  result<std::string> target = resolve_target(path, st, exists);
  if (!target)
    return target.take_error();
  SMEPILOT_RT_RETURN_IF_ERROR(check_target(path, st, exists, inputs));

  std::unique_ptr<output_file> out(new output_file());
  out->path_ = path;
  out->target_ = *target;
  std::random_device rd;
  std::mt19937_64 rng((uint64_t(rd()) << 32) ^ rd() ^ uint64_t(::getpid()));
  for (int attempt = 0; attempt < 100; ++attempt) {
    char suffix[32];
    std::snprintf(suffix, sizeof suffix, ".tmp-%08llx",
                  (unsigned long long)(rng() & 0xffffffffull));
    std::string temp = out->target_ + suffix;
    int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0) {
      if (errno == EEXIST)
        continue;
      return status::error(path + ": cannot create a temporary file in " +
                           directory_of(out->target_) + ": " + errno_text(errno));
    }
    out->fd_ = fd;
    out->temp_ = temp;
    break;
  }
  if (out->fd_ < 0)
    return status::error(path + ": cannot create a temporary file in " +
                         directory_of(out->target_) + ": every name tried exists");
  if (exists && ::fchmod(out->fd_, st.st_mode & 07777) != 0)
    return out->fail(status::error(
        path + ": cannot keep the permissions of the existing file: " + errno_text(errno)));
  return out;
}

output_file::~output_file() { discard(); }

void output_file::discard() {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  if (!temp_.empty()) {
    ::unlink(temp_.c_str());
    temp_.clear();
  }
}

status output_file::fail(status s) {
  failed_ = true;
  discard();
  return s;
}

status output_file::write(const void *data, size_t size) {
  if (failed_ || fd_ < 0)
    return status::error(path_ + ": the file was already discarded or committed");
  const char *p = static_cast<const char *>(data);
  while (size > 0) {
    ssize_t k = ::write(fd_, p, size);
    if (k < 0) {
      if (errno == EINTR)
        continue;
      return fail(status::error(path_ + ": write failed: " + errno_text(errno)));
    }
    p += k;
    size -= size_t(k);
  }
  return status::ok();
}

status output_file::commit() {
  if (failed_ || fd_ < 0)
    return status::error(path_ + ": the file was already discarded or committed");
  // fsync reports write-back errors (a full disk seen late, NFS) before the
  // rename makes the file visible.
  if (::fsync(fd_) != 0 && errno != EINVAL)
    return fail(status::error(path_ + ": write failed: " + errno_text(errno)));
  int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0)
    return fail(status::error(path_ + ": close failed: " + errno_text(errno)));
  if (std::rename(temp_.c_str(), target_.c_str()) != 0)
    return fail(
        status::error(path_ + ": cannot rename " + temp_ + " into place: " + errno_text(errno)));
  temp_.clear();
  return status::ok();
}

namespace {

status stdout_error(int err) {
  if (err == EPIPE)
    die_of_sigpipe();
  std::clearerr(stdout);
  return status::error(std::string("cannot write to standard output: ") +
                       (err ? errno_text(err) : "write error"));
}

} // namespace

status write_stdout(std::string_view text) {
  errno = 0;
  if (!text.empty() && std::fwrite(text.data(), 1, text.size(), stdout) != text.size())
    return stdout_error(errno);
  return flush_stdout();
}

status flush_stdout() {
  // An earlier buffered write may have failed (the error flag is set) while
  // this flush has nothing left to write: its errno is then the best
  // witness of why, when it is one a write gives.
  const int earlier = errno;
  errno = 0;
  if (std::fflush(stdout) == 0 && !std::ferror(stdout))
    return status::ok();
  int err = errno;
  if (err == 0) {
    // A pipe's write end polls POLLERR once its reader has gone.
    struct pollfd p = {::fileno(stdout), POLLOUT, 0};
    if (::poll(&p, 1, 0) == 1 && (p.revents & POLLERR))
      err = EPIPE;
    else if (earlier == ENOSPC || earlier == EIO || earlier == EFBIG || earlier == EDQUOT ||
             earlier == EPIPE)
      err = earlier;
  }
  return stdout_error(err);
}

} // namespace smepilot::rt
