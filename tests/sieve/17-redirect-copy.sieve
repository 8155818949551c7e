require "copy";
redirect :copy "copy@example.com";
redirect :copy "copy@example.com";
