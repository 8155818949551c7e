require ["imap4flags", "fileinto"];
addflag "\\Seen";
addflag ["$Work", "\\Flagged"];
removeflag "\\Flagged";
fileinto "Flagged";
