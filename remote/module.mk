# remote/: other IMAP servers through libetpan over loft's OpenSSL stream
# driver; accounts, credentials, the header cache.
LIB_SRC += $(wildcard remote/*.c)
