require ["envelope", "variables", "fileinto"];
if envelope :matches "from" "*@*" { set :lower "d" "${2}"; fileinto "Env/${d}"; }
