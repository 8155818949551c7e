# header :is, case-insensitive by default
require "fileinto";
if header :is "subject" "hello world" { fileinto "Hello"; }
