require ["body", "fileinto"];
if body :contains "unsubscribe" { fileinto "Body/Unsub"; }
elsif body :text :contains "Grüße" { fileinto "Body/Gruss"; }
