# Thin wrapper over CMake. `make demo` and `make test` install missing
# Debian packages (scripts/install-deps.sh), configure, build and run.
BUILD      ?= build
ASAN_BUILD ?= build-asan
TSAN_BUILD ?= build-tsan
COV_BUILD  ?= build-cov
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= onnx json lir safetensors npy pipeline
# The large exported models (make test-large writes them; make test runs
# them too when the folder exists).
LARGE_MODELS ?= $(BUILD)/large-models
LARGE_ENV   = $(if $(wildcard $(LARGE_MODELS)/*/model.onnx),LOOM_LARGE_MODELS=$(abspath $(LARGE_MODELS)))
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
CTEST_ARGS ?= --output-on-failure -j $(JOBS)

.PHONY: all deps build build-asan build-tsan build-fuzz test test-fast test-asan test-tsan test-large coverage fuzz fuzz-merge demo bench clean

all: build

deps:
	@scripts/install-deps.sh

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build $(BUILD) -j $(JOBS)

build-asan: deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DLOOM_SANITIZE=ON
	cmake --build $(ASAN_BUILD) -j $(JOBS)

# The whole suite, in the normal build and again under ASan+UBSan.
test: test-fast test-asan

test-fast: build
	$(LARGE_ENV) ctest --test-dir $(BUILD) $(CTEST_ARGS)

# The sanitizer build's tests run OpenBLAS on one thread themselves
# (tests/CMakeLists.txt, loom_sanitizer_checks).
test-asan: build-asan
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	    $(LARGE_ENV) ctest --test-dir $(ASAN_BUILD) $(CTEST_ARGS)

# The threading code (the pool, the threaded kernels, parallel loops at
# 1, 2, 3 and 7 threads, concurrent callers) under ThreadSanitizer, in a
# build of its own: tests/tsan (Criterion's fork server does not start
# under TSan, so the Criterion tests unit_threads and unit_parallel run in
# the normal and ASan builds only). The JIT's code calls the instrumented
# runtime.
TSAN_TESTS = tsan_threads
build-tsan: deps
	cmake -S . -B $(TSAN_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLOOM_TSAN=ON
	cmake --build $(TSAN_BUILD) -j $(JOBS) --target $(TSAN_TESTS)

test-tsan: build-tsan
	TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
	    ctest --test-dir $(TSAN_BUILD) $(CTEST_ARGS) -R '^($(subst $() ,|,$(TSAN_TESTS)))$$'

# Exports torchvision resnet18, mobilenet_v2 and squeezenet1_1 (random
# weights, onnxruntime references; PyPI torch, torchvision, onnxscript) into
# LARGE_MODELS and runs the end-to-end model test on them and the small ones,
# and gcc's warnings check of the emitted C (tests/emit/warnings.sh) on all.
test-large: build
	@scripts/install-py.sh torch
	python3 scripts/export_torch.py --out $(LARGE_MODELS) resnet18 mobilenet_v2 squeezenet1_1 unet
	LOOM_LARGE_MODELS=$(abspath $(LARGE_MODELS)) ctest --test-dir $(BUILD) \
	    -R '^(e2e_models|emit_warnings_gcc)$$' --output-on-failure

# Line coverage per folder: a gcc --coverage build (-O1) in COV_BUILD runs
# the whole suite, then scripts/coverage.py sums gcov's line counts.
coverage: deps
	cmake -S . -B $(COV_BUILD) -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS_DEBUG="-O1 -g" \
	    -DCMAKE_C_FLAGS=--coverage -DCMAKE_EXE_LINKER_FLAGS=--coverage \
	    -DCMAKE_SHARED_LINKER_FLAGS=--coverage
	cmake --build $(COV_BUILD) -j $(JOBS)
	find $(COV_BUILD) -name '*.gcda' -delete
	-ctest --test-dir $(COV_BUILD) $(CTEST_ARGS)
	python3 scripts/coverage.py $(COV_BUILD)

# libFuzzer targets (tests/fuzz, clang + ASan + UBSan): each of FUZZ_TARGETS
# for FUZZ_SECONDS on a copy of its committed corpus (docs/fuzzing.md).
build-fuzz: deps
	cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLOOM_FUZZ=ON \
	    -DCMAKE_C_COMPILER=clang-19
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzz

fuzz: build-fuzz
	tests/fuzz/run_fuzz.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# Folds what `make fuzz` found back into tests/fuzz/corpus, minimized.
fuzz-merge: build-fuzz
	tests/fuzz/merge_corpus.sh $(FUZZ_BUILD) $(FUZZ_TARGETS)

demo: build
	@sh scripts/demo.sh $(BUILD)

# loom's compiled models against onnxruntime side by side: 1 and 2 threads,
# batch 1, 8 and 32 for the CNNs (exported with a batch dim once, into
# LOOM_BATCHED_MODELS) and the transformer encoder, -O0, -O3, --standalone;
# the Keras models too (loom from .keras and from Keras's ONNX export).
LOOM_BATCHED_MODELS ?= /tmp/loom-bench-cnn
bench: build
	@scripts/install-py.sh torch
	@scripts/install-py.sh keras
	@[ -f $(LOOM_BATCHED_MODELS)/unet_b/model.onnx ] || \
	    python3 bench/export_batched.py --out $(LOOM_BATCHED_MODELS)
	LOOM_BATCHED_MODELS=$(LOOM_BATCHED_MODELS) python3 bench/bench.py --loom $(BUILD)/loom --keras

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(COV_BUILD) $(FUZZ_BUILD)
