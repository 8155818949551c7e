require "fileinto";
if size :over 100K { fileinto "Big"; } elsif size :under 1k { fileinto "Tiny"; }
