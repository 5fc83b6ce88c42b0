// A program that calls an SME ABI routine before the runtime's initializer
// has read AT_HWCAP2 (from .preinit_array, which runs before .init_array).
//
// The routines cannot know then whether the thread has SME, so they must say
// so and abort rather than guess (runtime/src/sme_abi_aarch64.S). ctest runs
// this program and passes when its output carries that message; if the call
// returns, the program prints a line that fails the test. The SIGABRT handler
// turns the abort into an ordinary exit (status 3): ctest fails a test whose
// process dies of a signal whatever its output.
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <unistd.h>

extern "C" {
struct arm_sme_state_result {
  uint64_t x0, x1;
};
arm_sme_state_result __arm_sme_state(void);
}

namespace {
void exit_on_abort(int) { _exit(3); }

void call_before_initializers() {
  std::signal(SIGABRT, exit_on_abort);
  const arm_sme_state_result r = __arm_sme_state();
  std::printf("__arm_sme_state returned x0=%#llx x1=%#llx before the runtime's initializer ran\n",
              (unsigned long long)r.x0, (unsigned long long)r.x1);
}
} // namespace

__attribute__((section(".preinit_array"),
               used)) static void (*const early_call)() = call_before_initializers;

int main() {
  std::puts("main reached");
  return 0;
}
