require "fileinto";
if exists "List-Id" { fileinto "HasListId"; }
if exists ["X-Odd", "X-Empty"] { fileinto "Odd"; }
