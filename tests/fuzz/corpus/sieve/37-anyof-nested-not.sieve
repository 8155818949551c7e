require ["fileinto", "imap4flags"];
if not anyof (not exists "Subject", header :is "Subject" "x") { addflag "\\Seen"; }
if allof (true, not not true) { fileinto :flags "\\Draft" "Drafty"; }
