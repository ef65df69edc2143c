# fleetsim: device-fleet simulator and conformance harness.
#   make            build ./fleetsim
#   make test       unit + end-to-end tests, then again under ASan+UBSan
#   make demo       run scenarios/quickstart.json against the embedded platform
#   make bench      10,000 JT/T 808 terminals against the embedded gateway
#   make deps       check (and, as root, install) the Debian packages
#   make install PREFIX=/usr/local
#   make clean

PREFIX ?= /usr/local
CC ?= cc

# A parallel build by default, a job per core (make -j1 builds one file at a time).
MAKEFLAGS += -j$(shell nproc 2>/dev/null || echo 2)
# One short line per file ("CC sim/proto/jt808_frame.c"); V=1 prints the commands.
ifeq ($(V),1)
Q :=
say = @true
else ifneq ($(findstring s,$(firstword -$(MAKEFLAGS))),)
Q := @
say = @true
else
Q := @
say = @printf '  %-4s %s\n' $(1) $(2)
endif
O ?= build
SAN_O := build-san

# Debian packages this tree needs to build and test (libcoap3-bin: coap-server, an
# independent CoAP peer for the replay dialect's end-to-end test).
DEB_PKGS := build-essential pkg-config libev-dev libcjson-dev libsqlite3-dev libcmocka-dev libjpeg-dev libcoap3-bin sqlite3 libmicrohttpd-dev tshark man-db libssl-dev openssl zlib1g-dev
# xmllint: the tests validate junit.xml against the JUnit schema (tests/data/junit.xsd);
# PyYAML: tests/data/check_k8s.py reads the Kubernetes manifests of deploy/k8s/.
DEB_PKGS += libxml2-utils python3-yaml

PKG_MODS := libcjson sqlite3 libmicrohttpd openssl zlib
# Third-party verification: the gateway's HTTP client (libcurl), and curl as an
# independent client of `fleetsim verifier` in the tests.
DEB_PKGS += libcurl4-openssl-dev curl
PKG_MODS += libcurl
# Headless Chromium renders report.html in its end-to-end test (screenshot, DOM, console).
DEB_PKGS += chromium
TEST_MODS := cmocka libjpeg
# The live dashboard (fleetsim top, run --dash) draws with ncurses; its
# end-to-end test drives it under tmux.
DEB_PKGS += libncurses-dev tmux

MISSING := $(shell for p in $(DEB_PKGS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done)

ifneq ($(MISSING),)
ifeq ($(shell id -u),0)
DEPS_STAMP := deps
else
$(error missing Debian packages: $(MISSING) -- run 'make deps' as root, or: apt-get install -y $(MISSING))
endif
endif

# Fixed-size text fields (error messages, report cells) are cut on purpose, so
# snprintf truncation is not a warning here.
WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter \
        -Wno-format-truncation
ifneq ($(findstring clang,$(CC)),)
WARN += -Wno-unknown-warning-option
endif
BASE_CFLAGS := -std=c11 -D_GNU_SOURCE -I. $(WARN) -g
OPT ?= -O2
CFLAGS_ALL = $(BASE_CFLAGS) $(OPT) $(EXTRA_CFLAGS) $(shell pkg-config --cflags $(PKG_MODS) 2>/dev/null)
LDLIBS_ALL = $(shell pkg-config --libs $(PKG_MODS) 2>/dev/null) $(shell pkg-config --libs ncursesw 2>/dev/null || echo -lncursesw) -lev -lm

LIB_SRCS := $(sort $(wildcard sim/proto/*.c sim/core/*.c sim/net/*.c sim/dev/*.c sim/platform/*.c sim/platform/core/*.c sim/platform/north/*.c sim/platform/jt808/*.c harness/*.c report/*.c) \
            $(filter-out sim/cli/main.c,$(wildcard sim/cli/*.c)))
LIB_OBJS := $(patsubst %.c,$(O)/%.o,$(LIB_SRCS))
TEST_SRCS := $(sort $(wildcard tests/unit/test_*.c))
TEST_BINS := $(patsubst tests/unit/%.c,$(O)/tests/%,$(TEST_SRCS))

.PHONY: all test unit e2e demo bench deps install uninstall clean check-san fuzz
.DEFAULT_GOAL := all

all: $(DEPS_STAMP) fleetsim

deps:
	@missing="$(MISSING)"; \
	if [ -z "$$missing" ]; then echo "deps: all Debian packages present"; exit 0; fi; \
	if [ "$$(id -u)" != 0 ]; then echo "deps: missing $$missing; run as root: apt-get install -y $$missing" >&2; exit 2; fi; \
	echo "deps: installing $$missing"; \
	export DEBIAN_FRONTEND=noninteractive; \
	apt-get update -qq && apt-get install -y -qq $$missing

fleetsim: $(O)/fleetsim
	@ln -sf $(O)/fleetsim fleetsim

$(O)/fleetsim: $(O)/sim/cli/main.o $(O)/libfleetsim.a
	$(call say,LD,$@)
	$(Q)$(CC) $(CFLAGS_ALL) -o $@ $^ $(LDLIBS_ALL)

$(O)/libfleetsim.a: $(LIB_OBJS)
	$(call say,AR,$@)
	@rm -f $@
	$(Q)ar rcs $@ $^

$(O)/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(call say,CC,$<)
	$(Q)$(CC) $(CFLAGS_ALL) -MMD -MP -c -o $@ $<

$(O)/tests/%: tests/unit/%.c $(O)/libfleetsim.a
	@mkdir -p $(dir $@)
	$(call say,CC,$<)
	$(Q)$(CC) $(CFLAGS_ALL) $(shell pkg-config --cflags $(TEST_MODS)) -o $@ $< $(O)/libfleetsim.a \
	    $(shell pkg-config --libs $(TEST_MODS)) $(LDLIBS_ALL)

-include $(LIB_OBJS:.o=.d) $(O)/sim/cli/main.d
# the default product models are assembled into the binary (svc_shadow_model.c)
$(O)/sim/platform/core/svc_shadow_model.o: profiles/jt808-terminal.json

# Unit and end-to-end tests for one build directory; tests/run.sh prints the totals.
unit-bins: $(O)/fleetsim $(TEST_BINS)

test: $(DEPS_STAMP)
	@$(MAKE) --no-print-directory O=$(O) unit-bins fleetsim
	@$(MAKE) --no-print-directory O=$(SAN_O) OPT=-O1 \
	    EXTRA_CFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" unit-bins
	@tests/run.sh $(O) $(SAN_O)

# One build's tests only, for quick iteration: make check O=build
check: unit-bins
	@tests/run.sh $(O)

demo: all
	./fleetsim run scenarios/quickstart.json --report $(O)/demo-report

# each load case BENCH_REPEAT times (about 13 minutes with 3; tests/bench.sh --help)
BENCH_REPEAT ?= 3
bench: all
	@BENCH_REPEAT=$(BENCH_REPEAT) tests/bench.sh ./fleetsim

# Coverage-guided fuzzing of the parsers (clang's libFuzzer), FUZZ_SECONDS each;
# not part of `make test`.  Crashes land in build-fuzz/crash-*.
FUZZ_SECONDS ?= 60
FUZZ_O := build-fuzz
FUZZ_TARGETS := $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
fuzz: $(DEPS_STAMP)
	@$(MAKE) --no-print-directory O=$(FUZZ_O) CC=clang OPT=-O1 \
	    EXTRA_CFLAGS="-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer" $(FUZZ_O)/libfleetsim.a
	@for t in $(FUZZ_TARGETS); do \
	    clang $(BASE_CFLAGS) -Wno-unknown-warning-option -O1 -fsanitize=fuzzer,address,undefined $$(pkg-config --cflags $(PKG_MODS)) \
	        -o $(FUZZ_O)/$$t tests/fuzz/$$t.c $(FUZZ_O)/libfleetsim.a $(LDLIBS_ALL) || exit 1; \
	    mkdir -p $(FUZZ_O)/corpus-$$t; \
	    case $$t in fuzz_scenario) seeds="scenarios tests/data/scenarios";; fuzz_snapshot|fuzz_report_html) seeds="tests/data/snapshots";; fuzz_triples) seeds="tests/data";; fuzz_jt808_term) seeds="tests/data/fuzz_jt808_term";; fuzz_conform_case) seeds="scenarios/conformance/jt808";; fuzz_report_json) seeds="tests/data/reports";; \
	        fuzz_live_req) seeds="tests/data/fuzz_live_req";; fuzz_dash_line) seeds="tests/data/fuzz_dash_line";; \
	        fuzz_pcodec) seeds="tests/data/fuzz_pcodec";; fuzz_pcodec_profile) seeds="profiles";; \
	        fuzz_north) seeds="";; fuzz_shadow_body) seeds="tests/data/fuzz_shadow_body";; \
	        fuzz_ocsp_staple) tests/fuzz/ocsp-staple-seeds.sh $(FUZZ_O)/ocsp-staple || exit 1; seeds="$(FUZZ_O)/ocsp-staple/seeds";; \
	        *) seeds="";; esac; \
	    echo "fuzz: $$t for $(FUZZ_SECONDS)s"; \
	    (cd $(FUZZ_O) && FLEETSIM_FUZZ_OCSP_DIR=$(CURDIR)/$(FUZZ_O)/ocsp-staple ./$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 corpus-$$t \
	        $$(for d in $$seeds; do echo ../$$d; done)) 2>&1 | grep -E "^(stat::number_of_executed_units|#[0-9]+ *DONE)|ERROR|SUMMARY" ; \
	    found=$$(ls $(FUZZ_O)/crash-* $(FUZZ_O)/leak-* $(FUZZ_O)/timeout-* 2>/dev/null); \
	    if [ -n "$$found" ]; then echo "$$found"; exit 1; fi; \
	done; true

# The binary, the man pages, and the scenarios (with SCHEMA.md) and vectors under
# share/fleetsim, where `fleetsim run NAME` finds a scenario by name.
SHARE_DIR = $(PREFIX)/share/fleetsim
MAN_PAGES := $(wildcard man/*.1)
install: $(DEPS_STAMP) $(O)/fleetsim
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(SHARE_DIR) $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 755 $(O)/fleetsim $(DESTDIR)$(PREFIX)/bin/fleetsim
	install -m 644 $(MAN_PAGES) $(DESTDIR)$(PREFIX)/share/man/man1/
	rm -rf $(DESTDIR)$(SHARE_DIR)/scenarios $(DESTDIR)$(SHARE_DIR)/vectors
	cp -r scenarios vectors $(DESTDIR)$(SHARE_DIR)/

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/fleetsim
	rm -f $(addprefix $(DESTDIR)$(PREFIX)/share/man/man1/,$(notdir $(MAN_PAGES)))
	rm -rf $(DESTDIR)$(SHARE_DIR)

clean:
	rm -rf $(O) $(SAN_O) $(FUZZ_O) fleetsim
