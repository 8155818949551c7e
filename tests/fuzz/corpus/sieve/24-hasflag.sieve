require ["imap4flags", "fileinto"];
addflag "$Foo \\Seen";
if hasflag :is "$foo" { fileinto "HasFoo"; }
if hasflag :contains "nothing" { fileinto "Never"; }
