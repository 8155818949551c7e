# lib/: small shared helpers (libc, OpenSSL only).
LIB_SRC += $(wildcard lib/*.c)
