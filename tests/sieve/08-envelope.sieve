require ["envelope", "fileinto"];
if envelope :domain :is "from" "lists.example.org" { fileinto "Bounces"; }
elsif envelope :localpart :contains "to" "+lists" { fileinto "Plus"; }
