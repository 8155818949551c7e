require ["variables", "fileinto", "envelope"];
if envelope :matches "to" "*+*@*" { fileinto "Plus/${2}"; }
elsif address :matches "from" "*@*" { fileinto "From/${2}"; }
