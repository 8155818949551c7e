# daemon/: `loft daemon`, composing the SMTP and IMAP listeners and the
# queue runner on lib/server.
LIB_SRC += $(wildcard daemon/*.c)
