# -*- Python -*-
# lit configuration for SMEPilot's tests.

import os
import sys

import lit.formats
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "SMEPilot"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.excludes = ["Inputs", "CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.smepilot_obj_root, "test")

config.substitutions.append(("%PATH%", config.environment["PATH"]))
config.substitutions.append(("%smepilot_src_root", config.smepilot_src_root))
config.substitutions.append(("%models", config.smepilot_models_dir))
config.substitutions.append(("%python", sys.executable))

llvm_config.with_system_environment(["HOME", "INCLUDE", "LIB", "TMP", "TEMP", "LSAN_OPTIONS"])

# smepilot-run --engine jit keeps compiled objects in $XDG_CACHE_HOME/smepilot
# (docs/generation.md, "Object cache"). Tests never touch the user's cache,
# and no run depends on what an earlier one left: every lit run gets a fresh
# cache directory of its own, removed when lit exits. A test that wants a
# cache state makes its own directory.
import atexit
import shutil
import tempfile
_xdg_cache = tempfile.mkdtemp(prefix="smepilot-lit-cache-")
atexit.register(shutil.rmtree, _xdg_cache, ignore_errors=True)
config.environment["XDG_CACHE_HOME"] = _xdg_cache
llvm_config.use_default_substitutions()

# A sanitizer build (the compiler-sanitize sub-build): every report is fatal
# and ends the tool by abort() (a signal, so that `not` fails too instead of
# taking the report for the error a test expects). libMLIR.so / libLLVM.so
# are not instrumented, which asks for two exceptions:
#  - allow_user_poisoning=0: LLVM's allocators (BumpPtrAllocator, Recycler)
#    poison and unpoison their slabs in inline header code only when the
#    including file is instrumented, so memory handed out by the library's
#    uninstrumented copy reads as poisoned in ours (false use-after-poison).
#    Our own code never poisons memory by hand.
#  - leaks inside those libraries are suppressed (cmake/lsan-suppressions.txt).
# Options already in the environment win.
if config.smepilot_sanitize:
    sanitizer_options = {
        "ASAN_OPTIONS": "detect_leaks=1:detect_stack_use_after_return=1:abort_on_error=1"
        ":allow_user_poisoning=0",
        "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1:abort_on_error=1",
        "LSAN_OPTIONS": "suppressions="
        + os.path.join(config.smepilot_src_root, "cmake", "lsan-suppressions.txt"),
    }
    for name, value in sanitizer_options.items():
        if name not in config.environment:
            config.environment[name] = value
    for sanitizer in config.smepilot_sanitize.split(","):
        config.available_features.add({"address": "asan", "undefined": "ubsan"}.get(
            sanitizer, sanitizer))

# Our tools first, then LLVM's (FileCheck, not, count, split-file).
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
llvm_config.with_environment("PATH", config.smepilot_tools_dir, append_path=True)
tool_dirs = [config.smepilot_tools_dir, config.llvm_tools_dir]
tools = ["smepilot-opt", "smepilot-build-model", "smepilot-run", "smepilot-compile"]
llvm_config.add_tool_substitutions(tools, tool_dirs)

if config.rsvg_convert and not config.rsvg_convert.endswith("-NOTFOUND"):
    config.available_features.add("rsvg")
    config.substitutions.append(("%rsvg-convert", config.rsvg_convert))

# The SME kernels' numeric tests: aarch64 objects linked with clang-22 and
# run under qemu-aarch64 (SME with SVE emulated, equal SVE and SME lengths).
# %qemu-sme<bits> runs at SVL = <bits>.
import shutil
clangxx_aarch64 = shutil.which("clang++-22") or os.path.join(config.llvm_tools_dir, "clang++")
qemu_aarch64 = shutil.which("qemu-aarch64")
if qemu_aarch64 and clangxx_aarch64 and os.path.exists(clangxx_aarch64):
    config.available_features.add("qemu-aarch64-sme")
    config.substitutions.append(
        ("%clangxx-aarch64",
         clangxx_aarch64 + " --target=aarch64-linux-gnu -fuse-ld=lld -static"))
    # The SME ABI routines the kernels need at link time: the runtime's own
    # (docs/sme-abi.md), the ones its aarch64 build links.
    config.substitutions.append(
        ("%sme-abi-routines",
         os.path.join(config.smepilot_src_root, "runtime", "src",
                      "sme_abi_aarch64.S")))
    # The runtime's aarch64 build (the runtime-aarch64 sub-build): the CLI
    # and runtime archives a model object links with into a program that runs
    # the model (--engine aot) under qemu.
    aarch64_build = os.path.join(config.smepilot_obj_root, "runtime-aarch64")
    cli_lib = os.path.join(aarch64_build, "tools", "smepilot-run", "libsmepilot_run_cli.a")
    rt_lib = os.path.join(aarch64_build, "runtime", "libsmepilot_rt.a")
    if os.path.exists(cli_lib) and os.path.exists(rt_lib):
        config.available_features.add("aarch64-runtime")
        config.substitutions.append(
            ("%aarch64-runtime-libs", " ".join([cli_lib, rt_lib, "-lpcre2-8", "-pthread"])))
        config.substitutions.append(
            ("%aarch64-smepilot-run", os.path.join(aarch64_build, "bin", "smepilot-run")))
    for bits in (128, 256, 512, 1024, 2048):
        n = bits // 8
        config.substitutions.append(
            ("%%qemu-sme%d" % bits,
             "%s -cpu max,sve-default-vector-length=%d,sme-default-vector-length=%d"
             % (qemu_aarch64, n, n)))
