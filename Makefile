# migrate: one C core, a SQLite loadable extension and a PostgreSQL extension.
#   make          build the SQLite module (sqlite_ext/migrate.so) and the PostgreSQL module
#   make demo     install what the demo is missing (a compiler, SQLite), build, apply examples/ to demo.db, show status
#   make check    install what is missing and run every test (unit, SQLite, PostgreSQL)
#   make sanitize the unit and SQLite tests under AddressSanitizer + UndefinedBehaviorSanitizer
#   make valgrind the unit and SQLite tests under valgrind (no leaks, no errors)

CC      ?= cc
CFLAGS  ?= -O2 -g
WARN    := -std=c11 -Wall -Wextra -Werror
CPPFLAGS_ALL := -D_GNU_SOURCE $(CPPFLAGS)
SQLITE3 ?= sqlite3

COMMON_SRC := $(sort $(wildcard common/*.c))
COMMON_HDR := $(wildcard common/*.h)
SQLITE_SRC := $(sort $(wildcard sqlite_ext/*.c))
SQLITE_HDR := $(wildcard sqlite_ext/*.h)

BUILD   ?= build
SO      := sqlite_ext/migrate.so

.PHONY: all sqlite pg deps deps-demo demo check test unit sqlite-test pg-test sanitize valgrind clean format

all: sqlite pg

sqlite: $(SO)

$(SO): $(COMMON_SRC) $(COMMON_HDR) $(SQLITE_SRC) $(SQLITE_HDR)
	$(CC) $(WARN) $(CFLAGS) $(CPPFLAGS_ALL) -fPIC -shared -o $@ $(COMMON_SRC) $(SQLITE_SRC) $(LDFLAGS)

pg:
	@if command -v pg_config >/dev/null && [ -f "$$(pg_config --pgxs)" ] && [ -d "$$(pg_config --includedir-server)" ]; then \
	  $(MAKE) -C pg_ext; \
	else echo "pg_config or the PostgreSQL server headers are missing: skipping the PostgreSQL module (make deps installs them)"; fi

deps:
	@scripts/install-deps.sh

deps-demo:
	@scripts/install-deps.sh demo

# --- unit tests of common/ (check) ---
UNIT_SRC := $(sort $(wildcard tests/unit/*.c))
UNIT_BIN := $(BUILD)/unit_tests

$(UNIT_BIN): $(UNIT_SRC) $(COMMON_SRC) $(COMMON_HDR) $(wildcard tests/unit/*.h)
	@mkdir -p $(BUILD)
	$(CC) $(WARN) $(CFLAGS) $(CPPFLAGS_ALL) -Icommon -o $@ $(UNIT_SRC) $(COMMON_SRC) $$(pkg-config --cflags --libs check) $(LDFLAGS)

unit: $(UNIT_BIN)
	$(UNIT_RUNNER) $(UNIT_BIN)

sqlite-test: $(SO)
	SQLITE3="$(SQLITE3)" MIGRATE_SO="$(CURDIR)/sqlite_ext/migrate" tests/sqlite/run.sh

pg-test: pg
	tests/pg/run.sh

test: unit sqlite-test pg-test

check: deps
	$(MAKE) all
	$(MAKE) test
	$(MAKE) sanitize
	$(MAKE) valgrind
	$(MAKE) reliability
	$(MAKE) fuzz-ci

demo: deps-demo
	$(MAKE) sqlite
	scripts/demo.sh

# Sanitizers: a separate build of everything the SQLite side runs.
sanitize:
	$(MAKE) BUILD=build/asan CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
	  LDFLAGS="-fsanitize=address,undefined" build/asan/unit_tests
	build/asan/unit_tests
	$(MAKE) BUILD=build/asan CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
	  LDFLAGS="-fsanitize=address,undefined" SO=build/asan/migrate.so build/asan/migrate.so
	MIGRATE_SANITIZE=1 MIGRATE_SO="$(CURDIR)/build/asan/migrate" tests/sqlite/run.sh

build/asan/migrate.so: $(COMMON_SRC) $(COMMON_HDR) $(SQLITE_SRC) $(SQLITE_HDR)
	@mkdir -p build/asan
	$(CC) $(WARN) $(CFLAGS) $(CPPFLAGS_ALL) -fPIC -shared -o $@ $(COMMON_SRC) $(SQLITE_SRC) $(LDFLAGS)

valgrind: $(UNIT_BIN) $(SO)
	CK_FORK=no valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect,possible $(UNIT_BIN)
	MIGRATE_VALGRIND=1 MIGRATE_SO="$(CURDIR)/sqlite_ext/migrate" tests/sqlite/run.sh

format:
	clang-format -i common/*.[ch] sqlite_ext/*.[ch] pg_ext/*.[ch] tests/unit/*.[ch]

clean:
	rm -rf $(BUILD) build $(SO) demo.db
	-@$(MAKE) -C pg_ext clean >/dev/null 2>&1 || true

# Benchmarks (figures and ratios, never pass/fail): bench/run.sh writes bench/results/.
.PHONY: bench bench-quick
bench:
	bench/run.sh
	bench/unique.sh

bench-quick:
	bench/run.sh --quick

# Reliability (tests/reliability/): crashes (SIGKILL at exact points), concurrent callers,
# hostile input, on SQLite and PostgreSQL; writes tests/reliability/REPORT.md
# (tests/reliability/update-readme.sh copies it into README.md).
.PHONY: reliability fuzz fuzz-build fuzz-ci
reliability: $(SO)
	@mkdir -p build/reliability
	$(CC) -std=c11 -Wall -Wextra -Werror -O2 -g -o build/reliability/crash_driver tests/reliability/crash_driver.c -lsqlite3
	SQLITE3="$(SQLITE3)" MIGRATE_SO="$(CURDIR)/sqlite_ext/migrate" CRASH_DRIVER="$(CURDIR)/build/reliability/crash_driver" tests/reliability/run.sh

# Fuzzing (fuzz/): libFuzzer targets over the core, under ASan and UBSan. FUZZ_SECONDS per target.
FUZZ_CC      ?= $(shell command -v clang >/dev/null 2>&1 && echo clang || echo clang-14)
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := fuzz_name fuzz_sections fuzz_plan

fuzz-build:
	@mkdir -p build/fuzz
	@for t in $(FUZZ_TARGETS); do \
	  echo "$(FUZZ_CC) ... -o build/fuzz/$$t fuzz/$$t.c common/*.c"; \
	  $(FUZZ_CC) -std=c11 -Wall -Wextra -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer \
	    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -Icommon \
	    -o build/fuzz/$$t fuzz/$$t.c $(COMMON_SRC) || exit 1; \
	done

fuzz: fuzz-build
	fuzz/run.sh $(FUZZ_SECONDS)

fuzz-ci: fuzz-build
	fuzz/run.sh 30
