# cxm - plain Makefile. Targets: all (./cxm), run, test, asan, lint, bench, clean.
# Switches: SANITIZER=address|undefined|thread builds build/san-<name>/cxm.

PKGS     := libmicrohttpd jansson sqlite3 libsodium xlsxwriter libutf8proc libcurl
CC       ?= cc
WARN     := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wformat=2 -Werror
CSTD     := -std=c11 -D_GNU_SOURCE
OPT      ?= -O2 -g
DEPCFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
DEPLIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lstemmer -lpthread -lm
CFLAGS_ALL = $(CSTD) $(OPT) $(WARN) -Isrc -I$(GEN) $(DEPCFLAGS) $(CFLAGS)

# build/gen: the sentiment lexicon, generated from lexicon/ (see below).
GEN      := build/gen
SRC      := $(wildcard src/*.c src/*/*.c) $(GEN)/lexicon.c
LIBSRC   := $(filter-out src/main.c,$(SRC))
UNITSRC  := $(wildcard tests/unit/*.c)
INTSRC   := $(wildcard tests/integration/*.c)
HDRS     := $(wildcard src/*.h src/*/*.h) $(GEN)/lexicon.h

CXM_DB     ?= cxm.db
CXM_LISTEN ?= 127.0.0.1:8080
SAN_FLAGS  := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

.PHONY: all run test asan unit integration browser lint bench clean deps

all: cxm

deps:
	@scripts/deps.sh

# --- generated sentiment lexicon: npm packages pinned in lexicon/ -----------
lexicon/node_modules/.package-lock.json: lexicon/package.json lexicon/package-lock.json
	@command -v npm >/dev/null || { echo "npm not found: run scripts/deps.sh" >&2; exit 1; }
	npm ci --prefix lexicon --no-audit --no-fund --loglevel=error
$(GEN)/lexicon.c $(GEN)/lexicon.h &: scripts/gen-lexicon.mjs lexicon/cx.tsv \
		lexicon/node_modules/.package-lock.json
	node scripts/gen-lexicon.mjs $(GEN)

# --- the survey pages' static files (web/), compiled into the binary -------
$(GEN)/survey_assets.h: scripts/gen-assets.sh web/survey.css web/widget.js
	@mkdir -p $(GEN)
	scripts/gen-assets.sh $@ web/survey.css web/widget.js
ASSET_USERS := $(foreach d,rel asan test testsan san-$(SANITIZER),build/$(d)/src/http/survey_page.o)
$(ASSET_USERS): $(GEN)/survey_assets.h

# --- the dashboard (web/dashboard/ and ECharts, pinned in web/), compiled in -
WEB_DEPS := web/node_modules/.package-lock.json
$(WEB_DEPS): web/package.json web/package-lock.json
	@command -v npm >/dev/null || { echo "npm not found: run scripts/deps.sh" >&2; exit 1; }
	npm ci --prefix web --no-audit --no-fund --loglevel=error
$(GEN)/dashboard_assets.h: scripts/gen-dashboard.sh web/dashboard $(wildcard web/dashboard/*) $(WEB_DEPS)
	@mkdir -p $(GEN)
	scripts/gen-dashboard.sh $@ web/dashboard web/node_modules/echarts/dist/echarts.min.js
DASH_USERS := $(foreach d,rel asan test testsan san-$(SANITIZER),build/$(d)/src/http/api_dashboard.o)
$(DASH_USERS): $(GEN)/dashboard_assets.h

# --- release binary -------------------------------------------------------
OBJ := $(SRC:%.c=build/rel/%.o)
build/rel/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -c $< -o $@
cxm: $(OBJ)
	$(CC) $(CFLAGS_ALL) -o $@ $(OBJ) $(DEPLIBS) $(LDFLAGS)

# --- sanitizer binary (ASan + UBSan) ----------------------------------------
ASAN_OBJ := $(SRC:%.c=build/asan/%.o)
build/asan/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -O1 $(SAN_FLAGS) -c $< -o $@
build/asan/cxm: $(ASAN_OBJ)
	$(CC) $(CFLAGS_ALL) -O1 $(SAN_FLAGS) -o $@ $(ASAN_OBJ) $(DEPLIBS)
asan: build/asan/cxm

ifneq ($(SANITIZER),)
SAN_ONE_OBJ := $(SRC:%.c=build/san-$(SANITIZER)/%.o)
build/san-$(SANITIZER)/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -O1 -fsanitize=$(SANITIZER) -fno-omit-frame-pointer -c $< -o $@
build/san-$(SANITIZER)/cxm: $(SAN_ONE_OBJ)
	$(CC) $(CFLAGS_ALL) -O1 -fsanitize=$(SANITIZER) -o $@ $(SAN_ONE_OBJ) $(DEPLIBS)
all: build/san-$(SANITIZER)/cxm
endif

# --- tests ------------------------------------------------------------------
# Unit tests link the library objects built with CXM_TEST (CXM_TESTABLE
# functions visible), once plain and once under ASan + UBSan.
TEST_OBJ := $(LIBSRC:%.c=build/test/%.o)
build/test/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -DCXM_TEST -c $< -o $@
build/test/unit: $(TEST_OBJ) $(UNITSRC) $(HDRS)
	$(CC) $(CFLAGS_ALL) -DCXM_TEST -o $@ $(UNITSRC) $(TEST_OBJ) $(DEPLIBS) -lcriterion

TESTSAN_OBJ := $(LIBSRC:%.c=build/testsan/%.o)
build/testsan/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -DCXM_TEST -O1 $(SAN_FLAGS) -c $< -o $@
build/testsan/unit: $(TESTSAN_OBJ) $(UNITSRC) $(HDRS)
	$(CC) $(CFLAGS_ALL) -DCXM_TEST -O1 $(SAN_FLAGS) -o $@ $(UNITSRC) $(TESTSAN_OBJ) $(DEPLIBS) -lcriterion

build/test/integration: $(INTSRC) $(wildcard tests/integration/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(OPT) $(WARN) -Isrc -Itests/integration -o $@ $(INTSRC) $(shell pkg-config --cflags --libs jansson libcurl sqlite3 libmicrohttpd libsodium) -lcriterion -lpthread

unit: build/test/unit
	build/test/unit

# Browser tests (tests/browser/): playwright-core and axe-core pinned there,
# Debian's chromium (scripts/deps.sh).
BROWSER_DEPS := tests/browser/node_modules/.package-lock.json
$(BROWSER_DEPS): tests/browser/package.json tests/browser/package-lock.json
	@command -v npm >/dev/null || { echo "npm not found: run scripts/deps.sh" >&2; exit 1; }
	npm ci --prefix tests/browser --no-audit --no-fund --loglevel=error
browser: cxm $(BROWSER_DEPS)
	CXM_BIN=./cxm node tests/browser/survey.test.js
	CXM_BIN=./cxm node tests/browser/dashboard.test.js

integration: cxm build/test/integration
	CXM_BIN=./cxm build/test/integration

test:
	@scripts/deps.sh
	@$(MAKE) --no-print-directory cxm build/asan/cxm build/test/unit build/testsan/unit build/test/integration $(BROWSER_DEPS)
	@scripts/run-tests.sh

lint: $(GEN)/lexicon.c
	@! grep -nE '\b(gets|sprintf|strcpy|strcat|strtok|atoi|vsprintf)\s*\(' $(SRC) $(HDRS) || \
	  { echo "lint: banned function (see docs/STYLE)"; exit 1; }
	@echo "lint ok"

run:
	@scripts/deps.sh
	@$(MAKE) --no-print-directory cxm
	@test -f "$(CXM_DB)" || ./cxm demo --db "$(CXM_DB)"
	./cxm serve --db "$(CXM_DB)" --listen "$(CXM_LISTEN)"

bench: cxm
	bench/ingest/run.sh

# bench/ingest's decoding timer, linked with the release objects
build/bench/decode: bench/ingest/decode.c $(filter-out build/rel/src/main.o,$(OBJ)) $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -o $@ $< $(filter-out build/rel/src/main.o,$(OBJ)) $(DEPLIBS) $(LDFLAGS)

clean:
	rm -rf build cxm
