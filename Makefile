# xmpp: build, test, install. `make check` and `make demo` set up a fresh
# Debian machine themselves (scripts/deps installs what is missing).

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR ?= $(PREFIX)/share/zsh/site-functions
FISHCOMPDIR ?= $(PREFIX)/share/fish/vendor_completions.d
DISTDIR ?= .

# pkg-config name:Debian package that provides it, for every library.
DEPS := libstrophe:libstrophe-dev expat:libexpat1-dev openssl:libssl-dev \
	inih:libinih-dev libcurl:libcurl4-openssl-dev jansson:libjansson-dev \
	libomemo-c:libomemo-c-dev sqlite3:libsqlite3-dev
PKGS := $(foreach d,$(DEPS),$(firstword $(subst :, ,$(d))))
VERSION := $(shell sed -n 's/^\#define XMPP_VERSION "\(.*\)"/\1/p' common/cli/version.h)

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# libcurl is opened at run time, for uploads only (common/net/httpput.c).
PKG_LIBS := $(shell pkg-config --libs $(filter-out libcurl,$(PKGS)) 2>/dev/null)

CFLAGS ?= -O2 -g
# libstrophe's calls to expat come to common/net/xmlhook.c first, and
# its SSL_new to common/net/tlsbind.c: the executable exports its
# definitions (a shared library's references are bound to the
# executable's symbol when it has one).
HOOKED := XML_Parse XML_SetUserData XML_SetElementHandler \
	XML_SetCharacterDataHandler XML_ParserReset XML_ParserFree SSL_new
LDFLAGS += $(foreach s,$(HOOKED),-Wl,--export-dynamic-symbol=$(s))
CFLAGS += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wno-missing-field-initializers -I. $(PKG_CFLAGS)
LDLIBS += $(PKG_LIBS) -lresolv

SRC := main.c $(wildcard common/*/*.c) $(wildcard cmd/*.c)
HDR := $(wildcard common/*/*.h)
OBJ := $(SRC:.c=.o)
TOOLS := $(sort $(basename $(notdir $(wildcard cmd/*.c))))
MANPAGES := $(wildcard man/man1/*.1)

COMPLETIONS := completion/xmpp.bash completion/_xmpp completion/xmpp.fish

# The ASan+UBSan build lives apart (build/sanitize/xmpp, its own
# objects), so switching never mixes objects built with other flags.
SAN_DIR := build/sanitize
# make deb's build, with Debian's flags: build/deb/xmpp.
DEB_DIR ?= build/deb
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
SAN_OBJ := $(SRC:%.c=$(SAN_DIR)/%.o)

ifeq ($(SANITIZE),1)
all: $(SAN_DIR)/xmpp
else
all: xmpp $(COMPLETIONS)
endif

xmpp: $(OBJ)
	$(CC) $(LDFLAGS) -o $@ $(OBJ) $(LDLIBS)

%.o: %.c | pkgcheck
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

$(SAN_DIR)/xmpp: $(SAN_OBJ)
	$(CC) $(LDFLAGS) $(SAN_FLAGS) -o $@ $(SAN_OBJ) $(LDLIBS)

$(SAN_DIR)/%.o: %.c | pkgcheck
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SAN_FLAGS) -MMD -MP -c -o $@ $<

-include $(OBJ:.o=.d) $(SAN_OBJ:.o=.d)

# libFuzzer targets (fuzz/*.c), each linked with common/ built for
# coverage under ASan+UBSan: build/fuzz/TARGET.
FUZZ_CC ?= clang-14
FUZZ_DIR := build/fuzz
FUZZ_FLAGS := -g -O1 -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wno-missing-field-initializers -I. $(PKG_CFLAGS) \
	-fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_TARGETS := $(filter-out fuzz,$(basename $(notdir $(wildcard fuzz/*.c))))
FUZZ_BINS := $(FUZZ_TARGETS:%=$(FUZZ_DIR)/%)
# Without xmlhook.c: the targets call expat itself.
FUZZ_LIB_OBJ := $(patsubst %.c,$(FUZZ_DIR)/%.o,$(filter-out common/net/xmlhook.c,$(wildcard common/*/*.c)))

fuzz: $(FUZZ_BINS)

$(FUZZ_DIR)/common/%.o: common/%.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c -o $@ $<

$(FUZZ_DIR)/libcommon.a: $(FUZZ_LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

$(FUZZ_DIR)/%: fuzz/%.c fuzz/fuzz.c fuzz/fuzz.h $(FUZZ_DIR)/libcommon.a
	$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer -o $@ $< fuzz/fuzz.c \
		$(FUZZ_DIR)/libcommon.a $(LDLIBS)

-include $(FUZZ_LIB_OBJ:.o=.d)

# Each target for FUZZ_SECONDS from its committed corpus (fuzz/corpus/).
FUZZ_SECONDS ?= 5
fuzz-smoke: fuzz
	scripts/fuzz smoke $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# Unit tests (tests/unit/NAME.c): programs over common/ built with the
# sanitizers from the same objects as build/sanitize/xmpp (less
# xmlhook.c: they call expat themselves), run by `make unit` and by
# `make check` before the suites. Each ends with "unit...: N passed, N failed".
UNIT_DIR := build/unit
UNIT_TESTS := $(basename $(notdir $(wildcard tests/unit/*.c)))
UNIT_BINS := $(UNIT_TESTS:%=$(UNIT_DIR)/%)
UNIT_LIB_OBJ := $(patsubst %.c,$(SAN_DIR)/%.o,$(filter-out common/net/xmlhook.c,$(wildcard common/*/*.c)))

$(UNIT_DIR)/libcommon.a: $(UNIT_LIB_OBJ)
	@mkdir -p $(@D)
	rm -f $@
	ar rcs $@ $^

$(UNIT_DIR)/%: tests/unit/%.c tests/unit/check.h $(UNIT_DIR)/libcommon.a
	$(CC) $(CFLAGS) $(SAN_FLAGS) -o $@ $< $(UNIT_DIR)/libcommon.a $(LDLIBS)

unit: $(UNIT_BINS)
	@status=0; for t in $(UNIT_BINS); do $$t || status=1; done; \
	tests/unit/scram_server.py $(UNIT_DIR)/auth || status=1; exit $$status

# Before compiling: every library present, or the Debian package to
# install named (pkg-config alone would only say "not found").
pkgcheck:
	@command -v pkg-config >/dev/null || { echo "Makefile: pkg-config is missing: install the Debian package pkg-config (or run 'make deps' as root)" >&2; exit 1; }
	@missing=; for d in $(DEPS); do \
		pkg-config --exists "$${d%%:*}" || missing="$$missing $${d#*:}"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "Makefile: missing libraries: install the Debian package(s)$$missing (or run 'make deps' as root)" >&2; \
		exit 1; \
	fi

# Completions come from the binary's own tool and option tables, so they
# list exactly what it accepts: completion/ from ./xmpp, and
# $(DEB_DIR)/completion/ from the package's build.
COMP_FILES := bash:xmpp.bash zsh:_xmpp fish:xmpp.fish

# completion_rule BIN DIR SHELL:FILE
define completion_rule
$(2)/$(lastword $(subst :, ,$(3))): $(1)
	@mkdir -p $$(@D)
	./$$< --completion $(firstword $(subst :, ,$(3))) >$$@.tmp && mv $$@.tmp $$@
endef
$(foreach c,$(COMP_FILES),$(eval $(call completion_rule,xmpp,completion,$(c))))
$(foreach c,$(COMP_FILES),$(eval $(call completion_rule,$(DEB_DIR)/xmpp,$(DEB_DIR)/completion,$(c))))

# The Debian package: xmpp_VERSION_ARCH.deb in DEBDIR, from a build of
# its own in DEB_DIR with Debian's hardening flags (dpkg-buildflags),
# installed under /usr as make install does, then packed by scripts/deb.
DEBDIR ?= .
DEB_OBJ := $(SRC:%.c=$(DEB_DIR)/obj/%.o)
DEB_FLAGS = DEB_BUILD_MAINT_OPTIONS=hardening=+all dpkg-buildflags --get
DEB_CFLAGS = $(shell $(DEB_FLAGS) CPPFLAGS) $(shell $(DEB_FLAGS) CFLAGS)
DEB_LDFLAGS = $(shell $(DEB_FLAGS) LDFLAGS)

$(DEB_DIR)/obj/%.o: %.c | pkgcheck
	@mkdir -p $(@D)
	$(CC) $(DEB_CFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

$(DEB_DIR)/xmpp: $(DEB_OBJ)
	$(CC) $(DEB_LDFLAGS) $(LDFLAGS) -o $@ $(DEB_OBJ) $(LDLIBS)

-include $(DEB_OBJ:.o=.d)

deb: $(DEB_DIR)/xmpp
	rm -rf $(DEB_DIR)/root
	$(MAKE) install INSTALL_BIN=$(DEB_DIR)/xmpp DESTDIR=$(abspath $(DEB_DIR))/root \
		PREFIX=/usr ZSHCOMPDIR=/usr/share/zsh/vendor-completions
	scripts/deb $(DEB_DIR)/root $(VERSION) $(DEBDIR)


deps:
	@scripts/deps

# The suite runs once per server, each with one build of xmpp, the runs
# and the fuzz smoke at the same time (scripts/check):
#   make check             the fuzz smoke (as fuzz-smoke), Prosody with
#                          the sanitizer build and ejabberd with the plain
#                          one: what CI runs
#   make check SANITIZE=1  both servers, sanitizer build
#   make check VALGRIND=1  both servers, plain build under valgrind
#   XS_IMPL=prosody        only that server; TESTS=tests/send.bats: one file
ifeq ($(VALGRIND),1)
CHECK_RUNS := prosody:valgrind ejabberd:valgrind
else ifeq ($(SANITIZE),1)
CHECK_RUNS := prosody:sanitize ejabberd:sanitize
else
CHECK_RUNS := prosody:sanitize ejabberd:plain
endif
ifneq ($(XS_IMPL),)
CHECK_RUNS := $(filter $(XS_IMPL):%,$(CHECK_RUNS))
endif
TESTS ?= tests/

#   CHECK_JOBS=N           test files at once in each run (default 2)
NPROC := $(shell nproc 2>/dev/null || echo 1)

check: deps
	$(MAKE) -j$(NPROC) xmpp $(COMPLETIONS) fuzz $(if $(findstring sanitize,$(CHECK_RUNS)),$(SAN_DIR)/xmpp)
	$(MAKE) unit
	scripts/check --fuzz $(FUZZ_SECONDS) $(TESTS) -- $(CHECK_RUNS)

demo: deps
	$(MAKE) xmpp
	scripts/demo

# Not part of check: timings on a shared machine are not pass/fail.
bench: deps
	$(MAKE) xmpp
	bench/run

# send --omemo against a plain send: section 8 of BENCHMARKS.md.
bench-omemo: deps
	$(MAKE) xmpp
	bench/omemo

# A listener for an hour (DURATION=SECONDS to shorten), and the time it
# takes to notice a dead link: sections 6 and 7 of BENCHMARKS.md.
soak: deps
	$(MAKE) xmpp
	bench/soak $(if $(DURATION),--duration $(DURATION))
	bench/deadlink

lint:
	mandoc -Tlint -W warning $(MANPAGES)
	clang-format --dry-run -Werror $(SRC) $(HDR) $(wildcard fuzz/*.[ch] tests/unit/*.c)

# The one C style (.clang-format), applied in place.
format:
	clang-format -i $(SRC) $(HDR) $(wildcard fuzz/*.[ch] tests/unit/*.c)

# bash-completion and fish load a completion by command name, so each
# xmpp-TOOL gets a link to the one script. The binary is stripped
# (STRIP= keeps the symbols).
# INSTALL_BIN is the binary to install (make deb installs its own), with
# the completions made from it.
STRIP ?= strip
INSTALL_BIN ?= xmpp
INSTALL_COMP = $(patsubst ./%,%,$(dir $(INSTALL_BIN))completion)
install: $(INSTALL_BIN) $(addprefix $(INSTALL_COMP)/,xmpp.bash _xmpp xmpp.fish)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR) $(DESTDIR)$(FISHCOMPDIR)
	install -m 755 $(INSTALL_BIN) $(DESTDIR)$(BINDIR)/xmpp
	$(if $(STRIP),$(STRIP) --strip-unneeded --remove-section=.comment --remove-section=.note $(DESTDIR)$(BINDIR)/xmpp)
	for t in $(TOOLS); do ln -sf xmpp $(DESTDIR)$(BINDIR)/xmpp-$$t; done
	$(if $(MANPAGES),install -m 644 $(MANPAGES) $(DESTDIR)$(MANDIR)/man1/)
	install -m 644 $(INSTALL_COMP)/xmpp.bash $(DESTDIR)$(BASHCOMPDIR)/xmpp
	for t in $(TOOLS); do ln -sf xmpp $(DESTDIR)$(BASHCOMPDIR)/xmpp-$$t; done
	install -m 644 $(INSTALL_COMP)/_xmpp $(DESTDIR)$(ZSHCOMPDIR)/_xmpp
	install -m 644 $(INSTALL_COMP)/xmpp.fish $(DESTDIR)$(FISHCOMPDIR)/xmpp.fish
	for t in $(TOOLS); do ln -sf xmpp.fish $(DESTDIR)$(FISHCOMPDIR)/xmpp-$$t.fish; done

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/xmpp
	for t in $(TOOLS); do rm -f $(DESTDIR)$(BINDIR)/xmpp-$$t; done
	for m in $(notdir $(MANPAGES)); do rm -f $(DESTDIR)$(MANDIR)/man1/$$m; done
	rm -f $(DESTDIR)$(BASHCOMPDIR)/xmpp $(DESTDIR)$(ZSHCOMPDIR)/_xmpp
	rm -f $(DESTDIR)$(FISHCOMPDIR)/xmpp.fish
	for t in $(TOOLS); do rm -f $(DESTDIR)$(BASHCOMPDIR)/xmpp-$$t $(DESTDIR)$(FISHCOMPDIR)/xmpp-$$t.fish; done

# The release tarball: what git holds at HEAD, under xmpp-VERSION/.
dist:
	@test -e .git || { echo "Makefile: make dist needs a git checkout, not a tarball" >&2; exit 1; }
	@git diff --quiet HEAD -- || echo "Makefile: warning: uncommitted changes are not in the tarball" >&2
	git archive --format=tar.gz --prefix=xmpp-$(VERSION)/ \
		-o $(DISTDIR)/xmpp-$(VERSION).tar.gz HEAD
	@echo "$(DISTDIR)/xmpp-$(VERSION).tar.gz"

clean:
	rm -f xmpp $(OBJ) $(OBJ:.o=.d) $(COMPLETIONS)
	rm -f xmpp-$(VERSION).tar.gz xmpp_$(VERSION)_*.deb
	rm -rf build

.PHONY: all deps check demo bench bench-omemo soak lint format install uninstall clean dist deb pkgcheck \
	fuzz fuzz-smoke unit
