# migrate: one C core, a SQLite loadable extension and a PostgreSQL extension.
#   make          build the SQLite module (sqlite_ext/migrate.so) and the PostgreSQL module
#   make demo     install what the demo is missing (a compiler, SQLite), build, apply examples/ to demo.db, show status
#   make check    install what is missing and run every test (unit, SQLite, PostgreSQL)
#   make sanitize the unit and SQLite tests under AddressSanitizer + UndefinedBehaviorSanitizer
#   make valgrind the unit and SQLite tests under valgrind (no leaks, no errors)
#   make install  install both modules: the SQLite one where the dynamic loader finds it by name
#                 (PREFIX, SQLITE_LIBDIR, DESTDIR), the PostgreSQL one through PGXS; make uninstall

CC      ?= cc
CFLAGS  ?= -O2 -g
WARN    := -std=c11 -Wall -Wextra -Werror
# The release lives in the PostgreSQL control file alone; the SQLite module is built with it.
RELEASE := $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" pg_ext/migrate.control)
CPPFLAGS_ALL := -D_GNU_SOURCE -DMIGRATE_RELEASE='"$(RELEASE)"' $(CPPFLAGS)
SQLITE3 ?= sqlite3

COMMON_SRC := $(sort $(wildcard common/*.c))
COMMON_HDR := $(wildcard common/*.h)
SQLITE_SRC := $(sort $(wildcard sqlite_ext/*.c))
SQLITE_HDR := $(wildcard sqlite_ext/*.h)
# Every C file of the project, for make format and make format-check.
C_FILES := $(sort $(wildcard common/*.[ch] sqlite_ext/*.[ch] pg_ext/*.[ch] tests/unit/*.[ch] \
             tests/reliability/*.c tests/pg/client/*.c fuzz/*.c bench/*.c))

# BUILD holds the objects of one set of flags: build/ for the normal build, build/asan/ for
# the sanitizer build, which runs this same Makefile with its own CFLAGS.
BUILD   ?= build
SO      := sqlite_ext/migrate.so
COMMON_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(COMMON_SRC))
SQLITE_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(SQLITE_SRC))

.PHONY: install uninstall install-sqlite uninstall-sqlite install-pg uninstall-pg install-test
.PHONY: sqlite-test-latest
.PHONY: all sqlite pg deps deps-demo demo check test unit sqlite-test pg-test sanitize valgrind clean format format-check

all: sqlite pg

sqlite: $(SO)

# One rule compiles every object; position-independent, so the same objects link the module
# and the unit tests.
$(BUILD)/obj/%.o: %.c $(COMMON_HDR) $(SQLITE_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(CFLAGS) $(CPPFLAGS_ALL) -fPIC -pthread -c -o $@ $<

$(BUILD)/obj/sqlite_ext/migrate.o: pg_ext/migrate.control

$(SO): $(COMMON_OBJ) $(SQLITE_OBJ)
	$(CC) $(CFLAGS) -shared -pthread -o $@ $^ $(LDFLAGS)

pg:
	@if command -v pg_config >/dev/null && [ -f "$$(pg_config --pgxs)" ] && [ -d "$$(pg_config --includedir-server)" ]; then \
	  $(MAKE) -C pg_ext; \
	else echo "pg_config or the PostgreSQL server headers are missing: skipping the PostgreSQL module (make deps installs them)"; fi

# The SQLite module goes where the dynamic loader looks without being told: a shell's
# ".load migrate" and Python's load_extension("migrate") find migrate.so by name only in the
# loader's default directories (/usr/lib/<multiarch> on Debian). ldconfig's cache holds only
# lib*.so names, so /usr/local/lib is not one of them: with another PREFIX, load it by path or
# add its directory to LD_LIBRARY_PATH.
PREFIX        ?= /usr
MULTIARCH     := $(shell $(CC) -print-multiarch 2>/dev/null)
SQLITE_LIBDIR ?= $(PREFIX)/lib$(if $(MULTIARCH),/$(MULTIARCH))

install: install-sqlite install-pg
uninstall: uninstall-sqlite uninstall-pg

install-sqlite: $(SO)
	install -d "$(DESTDIR)$(SQLITE_LIBDIR)"
	install -m 0644 $(SO) "$(DESTDIR)$(SQLITE_LIBDIR)/migrate.so"

uninstall-sqlite:
	rm -f "$(DESTDIR)$(SQLITE_LIBDIR)/migrate.so"

# PGXS installs into the server's directories (pg_config); DESTDIR is honoured there too.
install-pg uninstall-pg: pg
	@if command -v pg_config >/dev/null && [ -f "$$(pg_config --pgxs)" ]; then \
	  $(MAKE) -C pg_ext $(@:-pg=); \
	else echo "pg_config is missing: skipping the PostgreSQL module"; fi

deps:
	@scripts/install-deps.sh

deps-demo:
	@scripts/install-deps.sh demo

# --- unit tests of common/ (check) ---
UNIT_SRC := $(sort $(wildcard tests/unit/*.c))
UNIT_BIN := $(BUILD)/unit_tests

$(UNIT_BIN): $(UNIT_SRC) $(COMMON_OBJ) $(wildcard tests/unit/*.h)
	@mkdir -p $(BUILD)
	$(CC) $(WARN) $(CFLAGS) $(CPPFLAGS_ALL) -Icommon -o $@ $(UNIT_SRC) $(COMMON_OBJ) $$(pkg-config --cflags --libs check) $(LDFLAGS)

unit: $(UNIT_BIN)
	$(UNIT_RUNNER) $(UNIT_BIN)

sqlite-test: $(SO)
	SQLITE3="$(SQLITE3)" MIGRATE_SO="$(CURDIR)/sqlite_ext/migrate" tests/sqlite/run.sh

pg-test: pg
	tests/pg/run.sh

# The SQLite suite again with the current SQLite release (fetched from npm, pinned), the module
# built for the system's SQLite loaded into it; then the fleet's threading case in a shell whose
# library is that release built single-threaded (SQLITE_THREADSAFE=0).
sqlite-test-latest: $(SO)
	MIGRATE_SO="$(CURDIR)/sqlite_ext/migrate" tests/sqlite/latest.sh

test: unit sqlite-test sqlite-test-latest pg-test install-test

# make install and make uninstall for real (as root or through sudo), and one version everywhere.
install-test: all
	SQLITE3="$(SQLITE3)" tests/install/run.sh

check: deps
	$(MAKE) format-check
	$(MAKE) all
	$(MAKE) test
	$(MAKE) sanitize
	$(MAKE) valgrind
	$(MAKE) reliability
	$(MAKE) fuzz-ci

demo: deps-demo
	$(MAKE) sqlite
	scripts/demo.sh

# Sanitizers: the same objects and module built again under build/asan/ with the sanitizers'
# flags, then the unit and SQLite tests run against them.
ASAN_FLAGS := BUILD=build/asan SO=build/asan/migrate.so \
  CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
  LDFLAGS="-fsanitize=address,undefined"
sanitize:
	$(MAKE) $(ASAN_FLAGS) build/asan/unit_tests build/asan/migrate.so
	build/asan/unit_tests
	MIGRATE_SANITIZE=1 MIGRATE_SO="$(CURDIR)/build/asan/migrate" tests/sqlite/run.sh

valgrind: $(UNIT_BIN) $(SO)
	CK_FORK=no valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect,possible $(UNIT_BIN)
	MIGRATE_VALGRIND=1 MIGRATE_SO="$(CURDIR)/sqlite_ext/migrate" tests/sqlite/run.sh

format:
	clang-format -i $(C_FILES)

# Fails, naming the file and line, when any C file is not as clang-format (.clang-format) writes it.
format-check:
	clang-format --dry-run --Werror $(C_FILES)

clean:
	rm -rf $(BUILD) build $(SO) demo.db
	-@$(MAKE) -C pg_ext clean >/dev/null 2>&1 || true

# Benchmarks (figures and ratios, never pass/fail): bench/run.sh writes bench/results/.
.PHONY: bench bench-quick
bench:
	bench/run.sh
	bench/unique.sh
	bench/batches.sh
	bench/check.sh
	bench/fleet.sh
	bench/columns.sh

bench-quick:
	bench/run.sh --quick

# Reliability (tests/reliability/): crashes (SIGKILL at exact points; PostgreSQL backends ended
# and the server stopped immediately at named points), failing allocations and file operations
# (fault injection), concurrent callers, a soak (appliers racing while writers use the tables),
# hostile input, on SQLite and PostgreSQL; writes tests/reliability/REPORT.md
# (tests/reliability/update-readme.sh copies it into README.md).
# make reliability-full is the thorough mode: the fault-injection loops at every point (WAL too),
# more SQLite and PostgreSQL kill points, a 300 s soak instead of 30 s.
.PHONY: reliability reliability-full reliability-drivers fuzz fuzz-build fuzz-ci
reliability-drivers:
	@mkdir -p build/reliability
	$(CC) $(WARN) -O2 -g $(CPPFLAGS_ALL) -o build/reliability/crash_driver tests/reliability/crash_driver.c -lsqlite3
	$(CC) $(WARN) -O2 -g $(CPPFLAGS_ALL) -o build/reliability/fault_driver tests/reliability/fault_driver.c -lsqlite3

RELIABILITY_ENV = SQLITE3="$(SQLITE3)" MIGRATE_SO="$(CURDIR)/sqlite_ext/migrate" \
  CRASH_DRIVER="$(CURDIR)/build/reliability/crash_driver" FAULT_DRIVER="$(CURDIR)/build/reliability/fault_driver"

reliability: $(SO) reliability-drivers
	$(RELIABILITY_ENV) tests/reliability/run.sh

reliability-full: $(SO) reliability-drivers
	$(RELIABILITY_ENV) REL_FULL=1 tests/reliability/run.sh

# Fuzzing (fuzz/): libFuzzer targets over the core, under ASan and UBSan. FUZZ_SECONDS per target.
FUZZ_CC      ?= $(shell command -v clang >/dev/null 2>&1 && echo clang || echo clang-14)
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := fuzz_name fuzz_sections fuzz_plan

fuzz-build:
	@mkdir -p build/fuzz
	@for t in $(FUZZ_TARGETS); do \
	  echo "$(FUZZ_CC) ... -o build/fuzz/$$t fuzz/$$t.c common/*.c"; \
	  $(FUZZ_CC) $(WARN) -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer \
	    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -Icommon \
	    -o build/fuzz/$$t fuzz/$$t.c $(COMMON_SRC) || exit 1; \
	done

fuzz: fuzz-build
	fuzz/run.sh $(FUZZ_SECONDS)

fuzz-ci: fuzz-build
	fuzz/run.sh 30
