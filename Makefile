# Vigil — the two commands: `make run` and `make test`. Both install what they need.
BUILD_DIR ?= build
SAN_DIR ?= build-asan
JOBS ?= 2
PORT ?= 8000
PY := /usr/bin/python3
CMAKE_FLAGS := -DCMAKE_BUILD_TYPE=Release

.PHONY: all deps deps-test deps-bench build examples run test unit integration asan bench format clean

all: build

deps:
	@scripts/install-deps.sh build

deps-test:
	@scripts/install-deps.sh test

deps-bench:
	@scripts/install-deps.sh bench

$(BUILD_DIR)/CMakeCache.txt:
	cmake -S . -B $(BUILD_DIR) $(CMAKE_FLAGS)

build: deps $(BUILD_DIR)/CMakeCache.txt
	cmake --build $(BUILD_DIR) -j$(JOBS)

# The example model repository (deterministic; rebuilt when the script changes).
examples/.stamp: examples/make_models.py
	$(PY) examples/make_models.py --out examples/models
	@touch $@

# Reference profiles from the training CSVs (drift detection compares live traffic to them).
examples/.profiles: examples/.stamp $(BUILD_DIR)/vigil
	$(BUILD_DIR)/vigil profile build iris --data examples/models/iris/train.csv --model-repository examples/models
	$(BUILD_DIR)/vigil profile build fraud --data examples/models/fraud/train.csv --model-repository examples/models
	@touch $@

examples: deps build examples/.stamp examples/.profiles

run: build examples
	$(BUILD_DIR)/vigil serve --model-repository examples/models --port $(PORT)

test: deps-test build examples
	cd $(BUILD_DIR) && ctest --output-on-failure -j1
	$(MAKE) asan

unit: build
	cd $(BUILD_DIR) && ctest --output-on-failure -L unit

integration: build examples
	cd $(BUILD_DIR) && ctest --output-on-failure -L integration

# AddressSanitizer + UndefinedBehaviorSanitizer build: the unit tests, then the
# integration tests against the sanitized binary. (Leak checking is off: libtorch keeps
# process-lifetime allocations.)
asan: deps-test examples
	cmake -S . -B $(SAN_DIR) -DCMAKE_BUILD_TYPE=Debug -DVIGIL_SANITIZE=ON
	cmake --build $(SAN_DIR) -j$(JOBS) --target vigil_unit_tests vigil
	cd $(SAN_DIR) && ASAN_OPTIONS=detect_leaks=0 ctest --output-on-failure -L unit
	ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 VIGIL_BIN=$(SAN_DIR)/vigil \
	  VIGIL_EXAMPLES=$(CURDIR)/examples/models \
	  $(PY) -m pytest -q -p no:cacheprovider tests/integration

bench: deps-bench build examples
	$(PY) bench/run_bench.py --vigil $(BUILD_DIR)/vigil --models examples/models

format:
	clang-format -i $$(git ls-files '*.cc' '*.h')

clean:
	rm -rf $(BUILD_DIR) $(SAN_DIR) examples/.stamp examples/.profiles
