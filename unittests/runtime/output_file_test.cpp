// output_file: the rules every runtime tool's output file follows (refuse
// inputs and non-regular targets, write a fresh temporary, rename it into
// place, leave the target alone on any failure).
#include "smepilot_rt/output_file.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <dirent.h>
#include <fstream>
#include <sstream>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace smepilot::rt;

namespace {

#define EXPECT_CONTAINS(text, part)                                                                \
  EXPECT_NE(std::string(text).find(part), std::string::npos)                                       \
      << "expected to find \"" << (part) << "\" in: " << (text)

/// A fresh directory per test, removed with what is in it.
class OutputFile : public ::testing::Test {
protected:
  void SetUp() override {
    std::string tmpl = ::testing::TempDir() + "output_file_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    for (const std::string &name : entries())
      unlink((dir_ + "/" + name).c_str());
    rmdir(dir_.c_str());
  }

  std::string at(const std::string &name) const { return dir_ + "/" + name; }

  std::vector<std::string> entries() const {
    std::vector<std::string> names;
    if (DIR *d = opendir(dir_.c_str())) {
      while (dirent *e = readdir(d))
        if (std::string n = e->d_name; n != "." && n != "..")
          names.push_back(n);
      closedir(d);
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  static void put(const std::string &path, const std::string &text) {
    std::ofstream(path, std::ios::binary) << text;
  }
  static std::string get(const std::string &path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  static status write_all(const std::string &path, const std::string &text,
                          const std::vector<std::string> &inputs = {}) {
    auto out = output_file::create(path, inputs);
    if (!out)
      return out.take_error();
    SMEPILOT_RT_RETURN_IF_ERROR((*out)->write(text.data(), text.size()));
    return (*out)->commit();
  }

  std::string dir_;
};

} // namespace

TEST_F(OutputFile, WritesANewFile) {
  ASSERT_TRUE(write_all(at("a.bin"), "hello").is_ok());
  EXPECT_EQ(get(at("a.bin")), "hello");
  EXPECT_EQ(entries(), std::vector<std::string>{"a.bin"});
}

TEST_F(OutputFile, ReplacesThroughAFreshTemporary) {
  put(at("a.bin"), "old");
  chmod(at("a.bin").c_str(), 0640);
  // An unrelated file with the name a fixed-name scheme would use.
  put(at("a.bin.tmp"), "unrelated");
  auto out = output_file::create(at("a.bin"));
  ASSERT_TRUE(out.is_ok()) << out.error().message();
  EXPECT_EQ((*out)->target(), at("a.bin"));
  EXPECT_EQ((*out)->temp_path().rfind(at("a.bin.tmp-"), 0), 0u) << (*out)->temp_path();
  // A second writer of the same path gets its own temporary.
  auto other = output_file::create(at("a.bin"));
  ASSERT_TRUE(other.is_ok());
  EXPECT_NE((*other)->temp_path(), (*out)->temp_path());
  other->reset();

  ASSERT_TRUE((*out)->write("new", 3).is_ok());
  EXPECT_EQ(get(at("a.bin")), "old"); // nothing visible before commit
  ASSERT_TRUE((*out)->commit().is_ok());
  EXPECT_EQ(get(at("a.bin")), "new");
  EXPECT_EQ(get(at("a.bin.tmp")), "unrelated");
  struct stat st;
  ASSERT_EQ(stat(at("a.bin").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);
  EXPECT_EQ(entries(), (std::vector<std::string>{"a.bin", "a.bin.tmp"}));
}

TEST_F(OutputFile, NoCommitLeavesTheTargetAsItWas) {
  put(at("a.bin"), "old");
  {
    auto out = output_file::create(at("a.bin"));
    ASSERT_TRUE(out.is_ok());
    ASSERT_TRUE((*out)->write("partial", 7).is_ok());
  }
  EXPECT_EQ(get(at("a.bin")), "old");
  EXPECT_EQ(entries(), std::vector<std::string>{"a.bin"});
}

TEST_F(OutputFile, RefusesToOverwriteAnInput) {
  put(at("model.gguf"), "model");
  ASSERT_EQ(symlink(at("model.gguf").c_str(), at("link.gguf").c_str()), 0);
  ASSERT_EQ(link(at("model.gguf").c_str(), at("hard.gguf").c_str()), 0);
  for (const char *name : {"model.gguf", "link.gguf", "hard.gguf"}) {
    status s = write_all(at(name), "oops", {at("model.gguf")});
    ASSERT_FALSE(s.is_ok()) << name;
    EXPECT_CONTAINS(s.message(), at(name) + ": is the input file " + at("model.gguf") +
                                     "; refusing to overwrite it");
  }
  // The input named through the link is recognised too.
  status s = write_all(at("model.gguf"), "oops", {at("link.gguf")});
  EXPECT_FALSE(s.is_ok());
  EXPECT_EQ(get(at("model.gguf")), "model");
  EXPECT_EQ(entries(), (std::vector<std::string>{"hard.gguf", "link.gguf", "model.gguf"}));
  // Inputs that do not exist are no reason to refuse.
  EXPECT_TRUE(write_all(at("out.bin"), "x", {at("missing.gguf"), ""}).is_ok());
}

TEST_F(OutputFile, RefusesTargetsThatAreNotRegularFiles) {
  ASSERT_EQ(mkdir(at("d").c_str(), 0755), 0);
  status s = write_all(at("d"), "x");
  ASSERT_FALSE(s.is_ok());
  EXPECT_CONTAINS(s.message(), at("d") + ": is a directory, not a regular file");
  rmdir(at("d").c_str());

  s = write_all("/dev/null", "x");
  ASSERT_FALSE(s.is_ok());
  EXPECT_CONTAINS(s.message(), "/dev/null: is a character device, not a regular file");
  struct stat st;
  ASSERT_EQ(stat("/dev/null", &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));

  ASSERT_EQ(mkfifo(at("fifo").c_str(), 0600), 0);
  s = write_all(at("fifo"), "x");
  ASSERT_FALSE(s.is_ok());
  EXPECT_CONTAINS(s.message(), at("fifo") + ": is a FIFO, not a regular file");
  // A symlink to a device is judged by what it points to.
  ASSERT_EQ(symlink("/dev/null", at("null-link").c_str()), 0);
  s = write_all(at("null-link"), "x");
  ASSERT_FALSE(s.is_ok());
  EXPECT_CONTAINS(s.message(), "is a character device");
  EXPECT_EQ(entries(), (std::vector<std::string>{"fifo", "null-link"}));

  s = write_all("-", "x");
  ASSERT_FALSE(s.is_ok());
  EXPECT_CONTAINS(s.message(), "cannot go to standard output");
  EXPECT_FALSE(check_output_path("").is_ok());
}

TEST_F(OutputFile, FollowsSymlinks) {
  put(at("real.bin"), "old");
  ASSERT_EQ(symlink("real.bin", at("link.bin").c_str()), 0);
  ASSERT_TRUE(write_all(at("link.bin"), "new").is_ok());
  EXPECT_EQ(get(at("real.bin")), "new");
  struct stat st;
  ASSERT_EQ(lstat(at("link.bin").c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode)) << "the link must stay a link";

  ASSERT_EQ(symlink("nowhere.bin", at("dangling.bin").c_str()), 0);
  status s = write_all(at("dangling.bin"), "x");
  ASSERT_FALSE(s.is_ok());
  EXPECT_CONTAINS(s.message(), at("dangling.bin") + ": is a symbolic link to a missing file");
  EXPECT_EQ(entries(), (std::vector<std::string>{"dangling.bin", "link.bin", "real.bin"}));
}

TEST_F(OutputFile, ReportsAMissingDirectory) {
  status s = write_all(at("no-such-dir/a.bin"), "x");
  ASSERT_FALSE(s.is_ok());
  EXPECT_CONTAINS(s.message(), at("no-such-dir/a.bin") + ": cannot create a temporary file in " +
                                   at("no-such-dir") + ": No such file or directory");
}

// A write that fails half-way (here: the file size limit, as a full disk
// would) is an error naming the file; the previous file survives and the
// temporary is removed. In a child, so the limit does not outlive the test.
TEST_F(OutputFile, AFailedWriteKeepsThePreviousFile) {
  put(at("a.bin"), "previous good file");
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    std::signal(SIGXFSZ, SIG_IGN);
    struct rlimit limit = {4096, 4096};
    setrlimit(RLIMIT_FSIZE, &limit);
    std::string big(1 << 16, 'x');
    auto out = output_file::create(at("a.bin"));
    if (!out)
      _exit(2);
    status s = (*out)->write(big.data(), big.size());
    if (s.is_ok())
      _exit(3);
    if (s.message() != at("a.bin") + ": write failed: File too large")
      _exit(4);
    if ((*out)->commit().is_ok())
      _exit(5); // a failed file cannot be committed
    _exit(0);
  }
  int wstatus = 0;
  ASSERT_EQ(waitpid(pid, &wstatus, 0), pid);
  ASSERT_TRUE(WIFEXITED(wstatus));
  EXPECT_EQ(WEXITSTATUS(wstatus), 0);
  EXPECT_EQ(get(at("a.bin")), "previous good file");
  EXPECT_EQ(entries(), std::vector<std::string>{"a.bin"});
}
