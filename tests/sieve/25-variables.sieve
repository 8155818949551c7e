require ["variables", "fileinto"];
if header :matches "List-Id" "*<*.*>*" { set :lower "list" "${2}"; fileinto "Lists/${list}"; }
