# localmta/: sendmail front end, queue, delivery + Sieve, SMTP server, relay.
LIB_SRC += $(wildcard localmta/*.c)
