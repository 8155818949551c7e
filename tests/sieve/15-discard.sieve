if header :contains "Subject" "offer" { discard; stop; }
