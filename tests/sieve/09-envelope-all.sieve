require "envelope";
if envelope :all :is "to" "bob@example.net" { discard; }
