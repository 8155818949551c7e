require ["fileinto", "comparator-i;octet"];
if header :is :comparator "i;octet" "Subject" "Hello World" { fileinto "Exact"; }
elsif header :contains :comparator "i;ascii-casemap" "Subject" "HELLO" { fileinto "Folded"; }
