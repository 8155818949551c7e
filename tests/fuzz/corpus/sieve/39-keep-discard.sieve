discard;
if exists "List-Id" { keep; }
