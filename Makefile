# moat build. `make` builds build/moat; variants build into their own folders:
#   make SAN=1      ASan+UBSan build in build-san/
#   make fuzz       libFuzzer targets in build-fuzz/ (clang)
#   make check      everything the README's test command runs (see tools/check.sh)
# BUILD=dir overrides the output folder.

SAN ?=
ifeq ($(SAN),1)
BUILD ?= build-san
CC ?= gcc
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
# gcc 12 with UBSan reports false "null format string" warnings on vsnprintf wrappers.
SANWARN := -Wno-format-truncation -Wno-format-overflow
OPT := -O1 -g
else
BUILD ?= build
OPT := -O2 -g
SANFLAGS :=
SANWARN :=
endif

PKGS := openssl sqlite3 libpq libpcre2-8 zlib
CFLAGS_BASE := -std=c17 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter \
	-Wstrict-prototypes -Wmissing-prototypes -Wvla -Wformat=2 -Isrc -pthread \
	$(shell pkg-config --cflags $(PKGS))
CFLAGS ?= $(OPT)
ALL_CFLAGS := $(CFLAGS_BASE) $(CFLAGS) $(SANFLAGS) $(SANWARN) -MMD -MP
LDLIBS := $(shell pkg-config --libs $(PKGS)) -lm -pthread
LDFLAGS += $(SANFLAGS)

LIB_SRC := $(shell find src -name '*.c' ! -name main.c | LC_ALL=C sort)
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
UNIT_SRC := $(shell find tests/unit -name 'test_*.c' 2>/dev/null | LC_ALL=C sort)
UNIT_BIN := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
TEST_HARNESS := tests/unit/harness.c

.PHONY: all clean unit check serve install fuzz headers format

all: $(BUILD)/moat

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/libmoat.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/moat: $(BUILD)/src/main.o $(BUILD)/libmoat.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(TEST_HARNESS) $(BUILD)/libmoat.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests/unit -o $@ $< $(TEST_HARNESS) $(BUILD)/libmoat.a $(LDFLAGS) $(LDLIBS)

unit: $(UNIT_BIN)
	@fail=0; for t in $(UNIT_BIN); do \
	  MOAT_SHARED=$${MOAT_SHARED:-$(CURDIR)/../shared} $$t || fail=1; done; exit $$fail

# Every header compiles on its own.
headers:
	@for h in $$(find src -name '*.h'); do \
	  echo "#include \"$${h#src/}\"" | $(CC) $(CFLAGS_BASE) -x c -fsyntax-only - || exit 1; done; \
	  echo "headers: ok"

# libFuzzer targets: fuzz/<name>/fuzz_<name>.c, linked against a clang build of the library.
FUZZ_SRC := $(shell find fuzz -name 'fuzz_*.c' 2>/dev/null | LC_ALL=C sort)
FUZZ_BUILD := build-fuzz
FUZZ_CFLAGS := $(CFLAGS_BASE) -Wno-unused-command-line-argument -O1 -g \
	-fsanitize=fuzzer-no-link,address,undefined -DMOAT_FUZZING
FUZZ_LIB_OBJ := $(LIB_SRC:%.c=$(FUZZ_BUILD)/%.o)
FUZZ_BIN := $(patsubst fuzz/%.c,$(FUZZ_BUILD)/%,$(FUZZ_SRC))

$(FUZZ_BUILD)/src/%.o: src/%.c
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@

$(FUZZ_BUILD)/%: fuzz/%.c $(FUZZ_LIB_OBJ)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_LIB_OBJ) $(LDLIBS)

fuzz: $(FUZZ_BIN)

install: $(BUILD)/moat
	install -m 0755 $(BUILD)/moat $(DESTDIR)/usr/local/bin/moat

# README command 1: install build dependencies, build, install, start on the embedded default.
serve:
	./tools/deps.sh build
	$(MAKE) -j2 all
	$(MAKE) install
	exec /usr/local/bin/moat serve

# README command 2: every test, from a fresh clone.
check:
	./tools/check.sh

format:
	clang-format -i $$(find src tests/unit fuzz -name '*.[ch]')

clean:
	rm -rf build build-san build-fuzz

-include $(LIB_OBJ:.o=.d) $(BUILD)/src/main.d $(FUZZ_LIB_OBJ:.o=.d)
