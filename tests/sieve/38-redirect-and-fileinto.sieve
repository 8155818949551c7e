require "fileinto";
redirect "other@example.com";
if header :contains "Subject" "hello" { fileinto "Kept"; }
