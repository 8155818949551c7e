require "fileinto";
if header :is "X-Empty" "" { fileinto "EmptyHdr"; }
if header :matches "X-Spam-Score" "\\*\\*\\**" { fileinto "Stars"; }
if header :contains "X-Folded" "continued here" { fileinto "Folded"; }
