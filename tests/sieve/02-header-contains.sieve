require "fileinto";
if header :contains ["Subject", "X-Spam-Flag"] ["offer", "YES"] { fileinto "Junk"; }
