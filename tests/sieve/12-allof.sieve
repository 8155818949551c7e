require "fileinto";
if allof (exists "From", header :contains "Subject" "e", not size :over 50K) { fileinto "All"; }
