# xmpp: build, test, install. `make check` and `make demo` set up a fresh
# Debian machine themselves (scripts/deps installs what is missing).

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR ?= $(PREFIX)/share/zsh/site-functions
DISTDIR ?= .

# pkg-config name:Debian package that provides it, for every library.
DEPS := libstrophe:libstrophe-dev expat:libexpat1-dev openssl:libssl-dev \
	inih:libinih-dev libcurl:libcurl4-openssl-dev jansson:libjansson-dev
PKGS := $(foreach d,$(DEPS),$(firstword $(subst :, ,$(d))))
VERSION := $(shell sed -n 's/^\#define XMPP_VERSION "\(.*\)"/\1/p' common/version.h)

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# libcurl is opened at run time, for uploads only (common/httpput.c).
PKG_LIBS := $(shell pkg-config --libs $(filter-out libcurl,$(PKGS)) 2>/dev/null)

CFLAGS ?= -O2 -g
CFLAGS += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror $(PKG_CFLAGS)
LDLIBS += $(PKG_LIBS)

ifeq ($(SANITIZE),1)
CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer
LDFLAGS += -fsanitize=address,undefined
endif

SRC := main.c $(wildcard common/*.c) $(wildcard cmd/*.c)
OBJ := $(SRC:.c=.o)
TOOLS := $(sort $(basename $(notdir $(wildcard cmd/*.c))))
MANPAGES := $(wildcard man/*.1)

COMPLETIONS := completion/xmpp.bash completion/_xmpp

all: xmpp $(COMPLETIONS)

xmpp: $(OBJ)
	$(CC) $(LDFLAGS) -o $@ $(OBJ) $(LDLIBS)

%.o: %.c | pkgcheck
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

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
# list exactly what it accepts.
completion/xmpp.bash: xmpp
	@mkdir -p completion
	./xmpp --completion bash >$@.tmp && mv $@.tmp $@

completion/_xmpp: xmpp
	@mkdir -p completion
	./xmpp --completion zsh >$@.tmp && mv $@.tmp $@

-include $(OBJ:.o=.d)

deps:
	@scripts/deps

check: deps
	$(MAKE) xmpp
	bats tests/

demo: deps
	$(MAKE) xmpp
	scripts/demo

# Not part of check: timings on a shared machine are not pass/fail.
bench: deps
	$(MAKE) xmpp
	bench/run

lint:
	mandoc -Tlint -W warning $(MANPAGES)

# bash-completion loads a completion by command name, so each xmpp-TOOL
# gets a link to the one script.
install: xmpp $(COMPLETIONS)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR)
	install -m 755 xmpp $(DESTDIR)$(BINDIR)/xmpp
	for t in $(TOOLS); do ln -sf xmpp $(DESTDIR)$(BINDIR)/xmpp-$$t; done
	$(if $(MANPAGES),install -m 644 $(MANPAGES) $(DESTDIR)$(MANDIR)/man1/)
	install -m 644 completion/xmpp.bash $(DESTDIR)$(BASHCOMPDIR)/xmpp
	for t in $(TOOLS); do ln -sf xmpp $(DESTDIR)$(BASHCOMPDIR)/xmpp-$$t; done
	install -m 644 completion/_xmpp $(DESTDIR)$(ZSHCOMPDIR)/_xmpp

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/xmpp
	for t in $(TOOLS); do rm -f $(DESTDIR)$(BINDIR)/xmpp-$$t; done
	for m in $(notdir $(MANPAGES)); do rm -f $(DESTDIR)$(MANDIR)/man1/$$m; done
	rm -f $(DESTDIR)$(BASHCOMPDIR)/xmpp $(DESTDIR)$(ZSHCOMPDIR)/_xmpp
	for t in $(TOOLS); do rm -f $(DESTDIR)$(BASHCOMPDIR)/xmpp-$$t; done

# The release tarball: what git holds at HEAD, under xmpp-VERSION/.
dist:
	@test -e .git || { echo "Makefile: make dist needs a git checkout, not a tarball" >&2; exit 1; }
	@git diff --quiet HEAD -- || echo "Makefile: warning: uncommitted changes are not in the tarball" >&2
	git archive --format=tar.gz --prefix=xmpp-$(VERSION)/ \
		-o $(DISTDIR)/xmpp-$(VERSION).tar.gz HEAD
	@echo "$(DISTDIR)/xmpp-$(VERSION).tar.gz"

clean:
	rm -f xmpp $(OBJ) $(OBJ:.o=.d) $(COMPLETIONS)
	rm -f xmpp-$(VERSION).tar.gz

.PHONY: all deps check demo bench lint install uninstall clean dist pkgcheck
