require "fileinto";
if header :is "To" "second@example.net" { fileinto "SecondTo"; }
if address :is "cc" "dave@example.com" { fileinto "CcDave"; }
