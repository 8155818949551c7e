require "fileinto";
if header :contains "subject" "München" { fileinto "Munich"; }
if address :all :is "from" "jdoe@example.com" { fileinto "Doe"; }
