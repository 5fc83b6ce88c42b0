//===- OutputFileTest.cpp - output files of the compiler tools ------------===//
//
// OutputFile (include/smepilot/Support/OutputFile.h): the rules the runtime's
// output_file keeps, on llvm::sys::fs.
//
//===----------------------------------------------------------------------===//

#include "smepilot/Support/OutputFile.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include "gtest/gtest.h"

#include <csignal>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace llvm;
using namespace mlir::smepilot;

namespace {

class OutputFileTest : public ::testing::Test {
protected:
  void SetUp() override {
    ASSERT_FALSE(sys::fs::createUniqueDirectory("smepilot-output-file", dir));
  }
  void TearDown() override { sys::fs::remove_directories(dir); }

  std::string at(StringRef name) const {
    SmallString<256> p(dir);
    sys::path::append(p, name);
    return std::string(p);
  }
  static void put(StringRef path, StringRef text) {
    std::error_code ec;
    raw_fd_ostream os(path, ec);
    ASSERT_FALSE(ec);
    os << text;
  }
  static std::string get(StringRef path) {
    auto buffer = MemoryBuffer::getFile(path);
    return buffer ? (*buffer)->getBuffer().str() : "<missing>";
  }
  /// The names in the directory, sorted.
  std::vector<std::string> entries() const {
    std::vector<std::string> names;
    std::error_code ec;
    for (sys::fs::directory_iterator it(dir, ec), end; !ec && it != end;
         it.increment(ec))
      names.push_back(sys::path::filename(it->path()).str());
    llvm::sort(names);
    return names;
  }
  static std::string write(StringRef path, StringRef text,
                           ArrayRef<std::string> inputs = {}) {
    Error err =
        writeOutputFile(path, inputs, [&](raw_ostream &os) { os << text; });
    return err ? toString(std::move(err)) : "";
  }

  SmallString<256> dir;
};

} // namespace

TEST_F(OutputFileTest, ReplacesThroughAFreshTemporary) {
  put(at("a.o"), "old");
  put(at("a.o.tmp"), "unrelated");
  auto file = OutputFile::create(at("a.o"));
  ASSERT_TRUE(bool(file)) << toString(file.takeError());
  EXPECT_TRUE(StringRef((*file)->getTempPath()).starts_with(at("a.o.tmp-")));
  (*file)->os() << "new";
  EXPECT_EQ(get(at("a.o")), "old");
  Error committed = (*file)->commit();
  ASSERT_FALSE(bool(committed)) << toString(std::move(committed));
  EXPECT_EQ(get(at("a.o")), "new");
  EXPECT_EQ(get(at("a.o.tmp")), "unrelated");
  EXPECT_EQ(entries(), (std::vector<std::string>{"a.o", "a.o.tmp"}));
}

TEST_F(OutputFileTest, NoCommitLeavesTheTargetAsItWas) {
  put(at("a.o"), "old");
  {
    auto file = OutputFile::create(at("a.o"));
    ASSERT_TRUE(bool(file));
    (*file)->os() << "partial";
  }
  EXPECT_EQ(get(at("a.o")), "old");
  EXPECT_EQ(entries(), std::vector<std::string>{"a.o"});
}

TEST_F(OutputFileTest, RefusesInputsAndNonRegularTargets) {
  put(at("in.mlir"), "module {}");
  ASSERT_FALSE(sys::fs::create_link(at("in.mlir"), at("link.o")));
  EXPECT_EQ(write(at("in.mlir"), "x", {at("in.mlir")}),
            "'" + at("in.mlir") + "': is the input file " + at("in.mlir") +
                "; refusing to overwrite it");
  EXPECT_EQ(write(at("link.o"), "x", {at("in.mlir")}),
            "'" + at("link.o") + "': is the input file " + at("in.mlir") +
                "; refusing to overwrite it");
  EXPECT_EQ(get(at("in.mlir")), "module {}");

  EXPECT_EQ(write(dir, "x"), "'" + std::string(dir) +
                                 "': is a directory, not a regular file; "
                                 "refusing to write to it");
  EXPECT_EQ(write("/dev/null", "x"),
            "'/dev/null': is a character device, not a regular file; "
            "refusing to write to it");
  ASSERT_EQ(mkfifo(at("fifo").c_str(), 0600), 0);
  EXPECT_NE(write(at("fifo"), "x").find("is a FIFO"), std::string::npos);
  EXPECT_NE(write("-", "x").find("cannot go to standard output"),
            std::string::npos);
  ASSERT_FALSE(sys::fs::create_link("nowhere", at("dangling")));
  EXPECT_NE(write(at("dangling"), "x").find("symbolic link to a missing file"),
            std::string::npos);
  EXPECT_NE(write(at("no-dir/a.o"), "x")
                .find("cannot create a temporary file in " + at("no-dir")),
            std::string::npos);
  Error check = checkOutputPath("/dev/null");
  EXPECT_TRUE(bool(check));
  consumeError(std::move(check));
  EXPECT_EQ(entries(), (std::vector<std::string>{"dangling", "fifo", "in.mlir",
                                                 "link.o"}));
}

TEST_F(OutputFileTest, FollowsSymlinks) {
  put(at("real.o"), "old");
  ASSERT_FALSE(sys::fs::create_link("real.o", at("link.o")));
  EXPECT_EQ(write(at("link.o"), "new"), "");
  EXPECT_EQ(get(at("real.o")), "new");
  sys::fs::file_status st;
  ASSERT_FALSE(sys::fs::status(at("link.o"), st, /*Follow=*/false));
  EXPECT_EQ(st.type(), sys::fs::file_type::symlink_file);
}

// A write that fails half-way (the file size limit, as a full disk) is an
// error naming the file, never LLVM's "IO failure" abort; the previous file
// survives and the temporary is removed. In a child, so the limit stays there.
TEST_F(OutputFileTest, AFailedWriteKeepsThePreviousFile) {
  put(at("a.o"), "previous good file");
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    std::signal(SIGXFSZ, SIG_IGN);
    struct rlimit limit = {4096, 4096};
    setrlimit(RLIMIT_FSIZE, &limit);
    std::string message =
        write(at("a.o"), std::string(1 << 16, 'x'), {at("in.mlir")});
    _exit(message == "'" + at("a.o") + "': write failed: File too large" ? 0
                                                                         : 3);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(get(at("a.o")), "previous good file");
  EXPECT_EQ(entries(), std::vector<std::string>{"a.o"});
}
