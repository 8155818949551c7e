if exists "List-Id" { redirect "archive@example.com"; }
