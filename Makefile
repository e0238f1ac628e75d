# Thin wrapper over CMake. `make demo` and `make test` install missing
# Debian packages (scripts/install-deps.sh), configure, build and run.
BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= onnx json lir safetensors npy pipeline
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
CTEST_ARGS ?= --output-on-failure -j $(JOBS)

.PHONY: all deps build build-asan build-fuzz test test-fast test-asan fuzz fuzz-merge demo bench clean

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
	ctest --test-dir $(BUILD) $(CTEST_ARGS)

test-asan: build-asan
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	    ctest --test-dir $(ASAN_BUILD) $(CTEST_ARGS)

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

# loom's compiled models against onnxruntime, single-threaded, side by side.
bench: build
	@scripts/install-py.sh
	python3 bench/bench.py --loom $(BUILD)/loom

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
