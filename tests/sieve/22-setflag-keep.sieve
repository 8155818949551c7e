require "imap4flags";
setflag "\\Answered $a";
if header :contains "Subject" "e" { addflag "\\Flagged"; }
