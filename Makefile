# Thin wrapper around CMake. `make run` and `make test` are all a new user
# needs on a fresh Debian machine: both install what is missing first.
BUILD      ?= build
ASAN_BUILD ?= build-asan
TSAN_BUILD ?= build-tsan
JOBS       ?= $(shell nproc)
CAY_ARGS   ?=

DEB_PACKAGES = build-essential cmake pkg-config libuv1-dev \
  libsofia-sip-ua-dev libcyaml-dev libsodium-dev libbpf-dev check libsubunit-dev \
  sip-tester baresip-core python3 clang-format

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all deps build asan tsan run test test-unit format-check bench clean

all: build

# Install the Debian packages that are not installed yet (apt-get update
# runs only when something is missing).
deps:
	@missing=""; for p in $(DEB_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" \
	    || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "deps: installing$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	else echo "deps: all installed"; fi

# Configure every time (cheap): a build directory never misses a new test
# folder or source file.
build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

asan: deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DCAY_ASAN=ON >/dev/null
	cmake --build $(ASAN_BUILD) -j $(JOBS)

tsan: deps
	cmake -S . -B $(TSAN_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCAY_TSAN=ON >/dev/null
	cmake --build $(TSAN_BUILD) -j $(JOBS)

# Start cay on its built-in defaults (UDP 127.0.0.1:5060, answer every call).
run: build
	./$(BUILD)/cay $(CAY_ARGS)

format-check:
	@bad=$$(git ls-files '*.c' '*.h' | xargs clang-format --dry-run 2>&1 \
	  | grep -c warning); \
	if [ "$$bad" != 0 ]; then \
	  git ls-files '*.c' '*.h' | xargs clang-format --dry-run 2>&1 | head -40; \
	  echo "format-check: $$bad places differ from .clang-format"; exit 1; \
	fi; echo "format-check: ok"

test-unit: build
	ctest --test-dir $(BUILD) --output-on-failure -j 2

# Unit and integration tests, then the same tests under ASan+UBSan, the
# multi-shard, session and B2BUA tests (labels "shards", "sessions",
# "b2bua") and the mailbox under ThreadSanitizer,
# then a short pass of the benchmark suite so that its scripts cannot rot.
test: build asan tsan format-check
	ctest --test-dir $(BUILD) --output-on-failure
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --test-dir $(ASAN_BUILD) --output-on-failure
	TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
	  ctest --test-dir $(TSAN_BUILD) --output-on-failure -L 'shards|sessions|b2bua' 
	TSAN_OPTIONS=halt_on_error=1 \
	  ctest --test-dir $(TSAN_BUILD) --output-on-failure -R 'unit.test_mailbox'
	python3 bench/run --selftest --no-install --cay-bin $(BUILD)/cay

# The benchmark suite: Cay against SIPp's UAS and Kamailio (bench/README.md).
bench: deps
	python3 bench/run $(BENCH_ARGS)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD)
