require "fileinto";
if exists "From" {
  if exists "To" {
    if header :contains "Subject" "a" { fileinto "Deep/A"; }
    else { if true { fileinto "Deep/NotA"; } }
  }
}
