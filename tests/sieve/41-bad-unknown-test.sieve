if hedaer :is "Subject" "x" { discard; }
