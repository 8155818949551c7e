require ["body", "fileinto"];
if body :content "text/html" :contains "<b>" { fileinto "Html"; }
if body :raw :contains "base64" { fileinto "Raw64"; }
