# Thin wrapper around CMake. `make run` and `make test` are all a new user
# needs on a fresh Debian machine: both install what is missing first.
BUILD      ?= build
ASAN_BUILD ?= build-asan
TSAN_BUILD ?= build-tsan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= msg sdp framer config dns stun ws
JOBS       ?= $(shell nproc)
CAY_ARGS   ?=

DEB_PACKAGES = build-essential cmake pkg-config libuv1-dev \
  libsofia-sip-ua-dev libcyaml-dev libsodium-dev libbpf-dev libc-ares-dev libpcre2-dev libre-dev libssl-dev libwslay-dev libhttp-parser-dev libhiredis-dev check libsubunit-dev \
  sip-tester baresip-core linphone-cli redis-server prometheus python3 clang-format nodejs
# The npm packages of the JsSIP test (tests/integration/jssip) and of the
# WebSocket benchmark's load client (bench/ws).
JSSIP_DIR = tests/integration/jssip
BENCH_WS_DIR = bench/ws
# Debian's fail2ban, unpacked (not installed: that would start its daemon
# and jails on this machine), for fail2ban-regex in the filter's test
# (tests/integration/check_fail2ban.py).
FAIL2BAN_DIR = tests/integration/fail2ban

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all deps build asan tsan run test test-unit format-check bench fuzz \
  clean

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
	@command -v npm >/dev/null || { echo "deps: installing npm"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq npm; }
	@[ -d $(JSSIP_DIR)/node_modules/jssip ] || { \
	  echo "deps: npm ci in $(JSSIP_DIR)"; \
	  npm ci --prefix $(JSSIP_DIR) --no-audit --no-fund; }
	@[ -d $(BENCH_WS_DIR)/node_modules/ws ] || { \
	  echo "deps: npm ci in $(BENCH_WS_DIR)"; \
	  npm ci --prefix $(BENCH_WS_DIR) --no-audit --no-fund; }
	@[ -f $(FAIL2BAN_DIR)/usr/bin/fail2ban-regex ] || { \
	  echo "deps: unpacking Debian's fail2ban into $(FAIL2BAN_DIR)"; \
	  tmp=$$(mktemp -d) && chmod 755 $$tmp && \
	  { [ "$$(id -u)" != 0 ] || chown _apt $$tmp 2>/dev/null || true; } && \
	  { (cd $$tmp && apt-get download -qq fail2ban) || \
	    { $(SUDO) apt-get update -qq && \
	      (cd $$tmp && apt-get download -qq fail2ban); }; } && \
	  dpkg -x $$tmp/fail2ban_*.deb $(FAIL2BAN_DIR) && rm -rf $$tmp; }

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
	python3 bench/ws/run --selftest --no-install --cay-bin $(BUILD)/cay

# Coverage-guided fuzzing (tests/fuzz, libFuzzer; clang only, not part of
# `make test`): each target in turn for FUZZ_SECONDS, one process at a
# time. New inputs go to $(FUZZ_BUILD)/corpus/NAME, crashes to
# $(FUZZ_BUILD)/artifacts/NAME/; the seeds in tests/fuzz/corpus/NAME and
# the saved findings in tests/data/fuzz/NAME are read, never written. Save
# a minimized finding under tests/data/fuzz/NAME/ and test_fuzz_replay
# replays it in every `make test`.
FUZZ_MAX_LEN_msg    = 4096
FUZZ_MAX_LEN_sdp    = 4096
FUZZ_MAX_LEN_framer = 16384
FUZZ_MAX_LEN_config = 8192
FUZZ_MAX_LEN_dns    = 4200
FUZZ_MAX_LEN_stun   = 600
FUZZ_MAX_LEN_ws     = 10240
FUZZ_DICT_msg       = -dict=tests/fuzz/sip.dict
FUZZ_DICT_sdp       = -dict=tests/fuzz/sdp.dict
FUZZ_DICT_framer    = -dict=tests/fuzz/sip.dict
FUZZ_DICT_config    = -dict=tests/fuzz/config.dict
FUZZ_DICT_ws        = -dict=tests/fuzz/ws.dict
define fuzz_run
	mkdir -p $(FUZZ_BUILD)/corpus/$(1) $(FUZZ_BUILD)/artifacts/$(1)
	ASAN_OPTIONS=detect_leaks=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ./$(FUZZ_BUILD)/tests/fuzz/fuzz_$(1) $(FUZZ_BUILD)/corpus/$(1) \
	  tests/fuzz/corpus/$(1) tests/data/fuzz/$(1) $(FUZZ_DICT_$(1)) \
	  -max_len=$(FUZZ_MAX_LEN_$(1)) -max_total_time=$(FUZZ_SECONDS) \
	  -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=256 -detect_leaks=1 \
	  -print_final_stats=1 \
	  -artifact_prefix=$(FUZZ_BUILD)/artifacts/$(1)/ $(FUZZ_ARGS)

endef

fuzz: deps
	@$(MAKE) --no-print-directory deps DEB_PACKAGES="clang libclang-rt-14-dev"
	CC=clang cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCAY_FUZZ=ON -DCAY_TESTS=OFF >/dev/null
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target cay_fuzzers
	$(foreach t,$(FUZZ_TARGETS),$(call fuzz_run,$(t)))

# The benchmark suite: Cay against SIPp's UAS and Kamailio (bench/README.md).
bench: deps
	python3 bench/run $(BENCH_ARGS)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD)
