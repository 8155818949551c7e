require "fileinto";
if header :matches "Subject" "*[foo]*" { fileinto "Lists/foo"; }
elsif header :matches "Subject" "Re: ?*" { fileinto "Replies"; }
