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

SRC := main.c $(wildcard common/*.c) $(wildcard cmd/*.c)
OBJ := $(SRC:.c=.o)
TOOLS := $(sort $(basename $(notdir $(wildcard cmd/*.c))))
MANPAGES := $(wildcard man/*.1)

# The ASan+UBSan build lives apart (build/sanitize/xmpp, its own
# objects), so switching never mixes objects built with other flags.
SAN_DIR := build/sanitize
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
SAN_OBJ := $(SRC:%.c=$(SAN_DIR)/%.o)

ifeq ($(SANITIZE),1)
all: $(SAN_DIR)/xmpp
else
all: xmpp
endif

xmpp: $(OBJ)
	$(CC) $(LDFLAGS) -o $@ $(OBJ) $(LDLIBS)

%.o: %.c
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

$(SAN_DIR)/xmpp: $(SAN_OBJ)
	$(CC) $(LDFLAGS) $(SAN_FLAGS) -o $@ $(SAN_OBJ) $(LDLIBS)

$(SAN_DIR)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SAN_FLAGS) -MMD -MP -c -o $@ $<

-include $(OBJ:.o=.d) $(SAN_OBJ:.o=.d)

# libFuzzer targets (fuzz/*.c), each linked with common/ built for
# coverage under ASan+UBSan: build/fuzz/TARGET.
FUZZ_CC ?= clang-14
FUZZ_DIR := build/fuzz
FUZZ_FLAGS := -g -O1 -std=c11 -D_GNU_SOURCE -Wall -Wextra $(PKG_CFLAGS) \
	-fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_TARGETS := $(filter-out fuzz,$(basename $(notdir $(wildcard fuzz/*.c))))
FUZZ_BINS := $(FUZZ_TARGETS:%=$(FUZZ_DIR)/%)
FUZZ_LIB_OBJ := $(patsubst %.c,$(FUZZ_DIR)/%.o,$(wildcard common/*.c))

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

deps:
	@scripts/deps

# The suite runs once per server, each with one build of xmpp:
#   make check             the fuzz smoke (fuzz-smoke), then Prosody with
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

check: deps
	$(MAKE) xmpp $(if $(findstring sanitize,$(CHECK_RUNS)),$(SAN_DIR)/xmpp)
	$(MAKE) fuzz-smoke
	scripts/check $(TESTS) -- $(CHECK_RUNS)

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
	rm -rf build

.PHONY: all deps check demo lint install uninstall clean fuzz fuzz-smoke
