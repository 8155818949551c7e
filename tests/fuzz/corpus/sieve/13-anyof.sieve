require "fileinto";
if anyof (header :contains "Subject" "nomatch", address :is "from" "carol@example.com", false) { fileinto "Any"; }
