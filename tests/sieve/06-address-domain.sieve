require "fileinto";
if address :domain :is ["to", "cc"] "lists.example.org" { fileinto "Lists"; }
elsif address :domain :contains "from" "example" { fileinto "Example"; }
