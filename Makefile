# xmpp: build, test, install. `make check` and `make demo` set up a fresh
# Debian machine themselves (scripts/deps installs what is missing).

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
PKGS := libstrophe expat openssl inih jansson

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

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

all: xmpp

xmpp: $(OBJ)
	$(CC) $(LDFLAGS) -o $@ $(OBJ) $(LDLIBS)

%.o: %.c
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

-include $(OBJ:.o=.d)

deps:
	@scripts/deps

check: deps
	$(MAKE) xmpp
	bats tests/

demo: deps
	$(MAKE) xmpp
	scripts/demo

lint:
	mandoc -Tlint -W warning $(MANPAGES)

install: xmpp
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1
	install -m 755 xmpp $(DESTDIR)$(BINDIR)/xmpp
	for t in $(TOOLS); do ln -sf xmpp $(DESTDIR)$(BINDIR)/xmpp-$$t; done
	install -m 644 $(MANPAGES) $(DESTDIR)$(MANDIR)/man1/

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/xmpp
	for t in $(TOOLS); do rm -f $(DESTDIR)$(BINDIR)/xmpp-$$t; done
	for m in $(notdir $(MANPAGES)); do rm -f $(DESTDIR)$(MANDIR)/man1/$$m; done

clean:
	rm -f xmpp $(OBJ) $(OBJ:.o=.d)

.PHONY: all deps check demo lint install uninstall clean
