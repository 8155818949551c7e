require "fileinto";
fileinto "First";
stop;
fileinto "Never";
