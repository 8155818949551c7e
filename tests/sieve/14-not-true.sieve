if not true { discard; } elsif not false { keep; }
