# attnlab: `make demo` and `make check` from a fresh Debian 12 checkout (see README.md).
# Missing Debian packages are installed when run as root; otherwise the one apt-get line is printed.
BUILD ?= build
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=
DEBS = cmake gcc make pkg-config libhdf5-dev libopenblas-dev libcjson-dev libcriterion-dev libcminpack-dev libdeflate-dev \
       python3-numpy python3-h5py python3-scipy gnuplot-nox

.PHONY: all deps build demo check clean conformance format

all: build

deps:
	@sh tools/deps.sh $(DEBS)

$(BUILD)/CMakeCache.txt: CMakeLists.txt
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

demo: build
	@sh tools/demo.sh $(BUILD)

check: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

conformance: build
	@sh tools/conformance.sh $(BUILD)

format:
	clang-format -i core/*.[ch] metrics/*.[ch] analyses/*.[ch] datasets/*.[ch] plots/*.[ch] experiments/*.[ch] tests/*.[ch]

clean:
	rm -rf $(BUILD) out
