require "fileinto";
if address :localpart :matches ["to", "cc"] "bob*" { fileinto "Bob"; }
