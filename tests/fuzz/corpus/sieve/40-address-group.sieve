require "fileinto";
if address :all :contains "to" "undisclosed" { fileinto "Undisclosed"; }
if address :domain :is "to" "example.net" { fileinto "ToNet"; }
