# lit configuration for loom's .lir tests (see docs/ir.md, "Writing tests").
# Run through CTest (ctest -R lit) or `lit -v BUILD/tests/lit`: the build
# directory holds lit.site.cfg.py, which says where loom-opt and FileCheck
# are and then loads this file.
import os

import lit.formats

if not hasattr(config, "loom_tools_dir"):
    lit_config.fatal("run lit on the build directory (BUILD/tests/lit), "
                     "not on the source directory")

config.name = "loom"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".lir", ".test"]
config.excludes = ["Inputs"]
# tests/passes loads this file too, with its own source root.
config.test_source_root = getattr(config, "loom_test_source_root",
                                  os.path.dirname(os.path.abspath(__file__)))
config.test_exec_root = config.loom_binary_dir

# loom-opt first, then FileCheck and `not`; nothing else from the caller's
# PATH is needed, but keep it for diff and friends under the external shell.
config.environment["PATH"] = os.pathsep.join(
    [config.loom_tools_dir, config.filecheck_dir, config.environment.get("PATH", "")])
# The sanitizer build: tests that cannot run under ASan say so with
# `UNSUPPORTED: asan` (lit lists them), and allocations too large to serve
# return NULL as they do without ASan, so loom's own message is checked.
if getattr(config, "loom_sanitize", "OFF").upper() in ("ON", "TRUE", "1", "YES"):
    config.available_features.add("asan")
config.substitutions.append(("%python", config.python_executable))
config.substitutions.append(("%root", config.loom_source_dir))
config.substitutions.append(("%{loom}", os.path.join(config.loom_tools_dir, "loom")))
config.substitutions.append(("%exit", config.python_executable + " " +
                             os.path.join(os.path.dirname(os.path.abspath(__file__)), "Inputs", "exit_code.py")))
config.substitutions.append(("%onnx_conformance", config.onnx_conformance))
config.substitutions.append(("%onnxdata", os.environ.get(
    "LOOM_ONNX_TESTDATA", "/usr/share/libonnx-testdata/data")))

# In a sanitizer build every report aborts the process, so a RUN line that
# expects exit status 1 (%exit 1) or pipes into FileCheck (lit runs with
# pipefail) fails on it instead of taking it for the expected error. Without
# the sanitizers these options are ignored.
# allocator_may_return_null: allocations too large to serve return NULL as
# they do without ASan, so loom's own message is checked (crashes.test).
config.environment["ASAN_OPTIONS"] = "abort_on_error=1:detect_leaks=1:allocator_may_return_null=1"
config.environment["UBSAN_OPTIONS"] = "halt_on_error=1:abort_on_error=1:print_stacktrace=1"
# The JIT's object cache stays off; cli/jit-cache.test turns it on in a
# folder of its own.
config.environment["LOOM_JIT_CACHE"] = "0"
# lit passes neither HOME nor XDG_CACHE_HOME: without a cache folder every
# --backend=c run would build the runtime again (some 20 s of gcc -O3
# each). The caller's cache folder serves the run, as it serves the rest of
# the suite (ctest passes HOME), so the runtime's objects built by one test
# are reused by the others; without HOME, one folder in the build tree.
# cli/backend-c.test checks the cache itself in a folder of its own.
config.environment["XDG_CACHE_HOME"] = (
    os.environ.get("XDG_CACHE_HOME")
    or (os.path.join(os.environ["HOME"], ".cache") if os.environ.get("HOME")
        else os.path.join(config.loom_binary_dir, "xdg-cache")))
