require ["variables", "fileinto"];
set "x" "${undefined}abc";
if string :matches "${x}" "a?c" { fileinto "String"; }
