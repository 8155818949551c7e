# store/: message model, mailbox drivers, per-folder state, notmuch index.
LIB_SRC += $(wildcard store/*.c)
