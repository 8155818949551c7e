# imapd/: the IMAP server's protocol core (parser, session, commands).
LIB_SRC += $(wildcard imapd/*.c)
