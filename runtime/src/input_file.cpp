// SMEPilot runtime: input files (see input_file.h).
#include "smepilot_rt/input_file.h"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace smepilot::rt {

const char *file_kind_name(mode_t mode) {
  if (S_ISDIR(mode))
    return "a directory";
  if (S_ISCHR(mode))
    return "a character device";
  if (S_ISBLK(mode))
    return "a block device";
  if (S_ISFIFO(mode))
    return "a FIFO";
  if (S_ISSOCK(mode))
    return "a socket";
  return "not a regular file";
}

result<int> open_input_file(const std::string &path) {
  // O_NONBLOCK: the open of a FIFO returns at once instead of waiting for a
  // writer; the FIFO is then refused like every other non-regular file.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0)
    return status::error(path + ": cannot open: " + std::strerror(errno));
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return status::error(path + ": cannot stat: " + std::strerror(err));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    const char *kind = file_kind_name(st.st_mode);
    return status::error(path + ": " +
                         (std::strcmp(kind, "not a regular file") == 0
                              ? std::string(kind)
                              : "is " + std::string(kind) + ", not a regular file"));
  }
  // Regular files never block; clear the flag so reads behave as usual.
  if (int flags = ::fcntl(fd, F_GETFL); flags >= 0)
    ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  return fd;
}

result<std::string> read_input_file(const std::string &path) {
  result<int> fd = open_input_file(path);
  if (!fd)
    return fd.take_error();
  std::string text;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(*fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      const int err = errno;
      ::close(*fd);
      return status::error(path + ": read failed: " + std::strerror(err));
    }
    if (n == 0)
      break;
    text.append(buf, size_t(n));
  }
  ::close(*fd);
  return text;
}

} // namespace smepilot::rt
