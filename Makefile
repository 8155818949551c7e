# loft — one non-recursive Makefile; each directory adds its part in module.mk.
#
#   make            build build/loft
#   make run        install missing packages, build, start loft on its defaults
#   make check      install missing packages, build, run every test
#   make check SANITIZE=1   the same under ASan+UBSan (objects in build/asan)
#   make fuzz       libFuzzer targets with clang-14 (FUZZ_SECONDS each)
#   make bench      benchmarks in bench/ (BENCH=name runs one)
#   make install PREFIX=/usr/local DESTDIR=

.DEFAULT_GOAL := all
SHELL := /bin/bash

PREFIX ?= /usr/local
DESTDIR ?=
SHARED ?= $(abspath ../shared)
FUZZ_SECONDS ?= 60

O := build
ifeq ($(SANITIZE),1)
O := build/asan
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
endif
ifeq ($(FUZZ),1)
O := build/fuzz
SAN_FLAGS := -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
endif

PKGS := ncursesw libetpan openssl gmime-3.0 lmdb libcrypt
# Evaluated once, on first use, so that `make deps` can run before pkg-config
# knows the packages.  One feature-macro set for every file: -D_GNU_SOURCE;
# the pkg-config ones (-D_XOPEN_SOURCE=600 from ncursesw...) are dropped.
PKG_CFLAGS = $(eval PKG_CFLAGS := $$(filter-out -D_DEFAULT_SOURCE -D_XOPEN_SOURCE% -D_LARGEFILE64_SOURCE,$$(shell pkg-config --cflags $(PKGS))))$(PKG_CFLAGS)
# Debian's libetpan.pc injects -specs=...no-pie-link.specs: drop it, stay PIE.
# Not libetpan, OpenSSL, GMime, ncursesw nor libnotmuch either: loaded on first use
# (lib/dynlib.h), so that commands which never use them (loft deliver) do not
# pay for mapping them at start-up.  Test programs that call them directly
# add LAZY_LIBS.
PKG_LIBS = $(eval PKG_LIBS := $$(filter-out -specs=%,$$(shell pkg-config --libs $(filter-out libetpan openssl gmime-3.0 ncursesw,$(PKGS)))))$(PKG_LIBS)
LAZY_LIBS := -letpan -lnotmuch -lssl -lcrypto -lgmime-3.0 -lncursesw -ltinfo
# The soname remote/etpan.c loads: the one the linker finds for -letpan.
ETPAN_SONAME = $(eval ETPAN_SONAME := $$(shell objdump -p $$$$($(CC) -print-file-name=libetpan.so) 2>/dev/null | awk '/SONAME/ { print $$$$2 }'))$(ETPAN_SONAME)
$(O)/obj/remote/etpan.o: ALL_CFLAGS += $(if $(ETPAN_SONAME),-DREMOTE_ETPAN_SONAME='"$(ETPAN_SONAME)"')
CMOCKA_LIBS = $(eval CMOCKA_LIBS := $$(shell pkg-config --libs cmocka))$(CMOCKA_LIBS)

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
ifeq ($(CI),true)
WARN += -Werror
endif
CFLAGS ?= -O2 -g
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE -I. $(WARN) $(CFLAGS) $(SAN_FLAGS) $(PKG_CFLAGS) -MMD -MP
# Full RELRO (what libetpan.pc used to add): the daemon faces the network.
ALL_LDFLAGS = $(LDFLAGS) $(SAN_FLAGS) -Wl,--as-needed -Wl,-z,relro,-z,now $(SAN_LIBS)
# Under the sanitizers GMime (with GLib) is mapped at start-up as before and
# dlopen finds it there: with GLib dlopened, LeakSanitizer's tracer (GCC 12)
# crashed at exit ("Tracer caught signal 11"; index.t, sieve.t).
ifneq ($(SAN_FLAGS),)
SAN_LIBS := -Wl,--no-as-needed -lgmime-3.0 -Wl,--as-needed
endif

VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)

# Each module.mk appends its sources here.
LIB_SRC :=
MAIN_SRC :=
UNIT_TESTS :=
FUZZ_TARGETS :=

obj = $(patsubst %.c,$(O)/obj/%.o,$(1))
LOFT_A := $(O)/libloft.a

include lib/module.mk store/module.mk localmta/module.mk imapd/module.mk remote/module.mk daemon/module.mk client/module.mk ui/module.mk
include tests/module.mk bench/module.mk doc/module.mk

LIB_OBJ := $(call obj,$(LIB_SRC))

.PHONY: all deps run check test unit install clean fuzz bench check-layers
# Keep objects make considers intermediate (test and fuzz objects).
.SECONDARY:
all: $(O)/loft

$(O)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -DLOFT_VERSION='"$(VERSION)"' -c -o $@ $<

$(LOFT_A): $(LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(O)/loft: $(call obj,$(MAIN_SRC)) $(LOFT_A)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

# deps first, in a separate make, so pkg-config sees what it installed.
run:
	@$(MAKE) --no-print-directory deps
	@$(MAKE) --no-print-directory all
	$(O)/loft

check:
	@$(MAKE) --no-print-directory deps
	@$(MAKE) --no-print-directory test

deps:
	@./tests/deps.sh

install: all doc
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man5
	install -m 755 $(O)/loft $(DESTDIR)$(PREFIX)/bin/loft
	install -m 644 $(MAN1) $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 644 $(MAN5) $(DESTDIR)$(PREFIX)/share/man/man5/

clean:
	rm -rf build

-include $(shell find $(O)/obj -name '*.d' 2>/dev/null)
