require "fileinto";
/* a bracket comment
   over lines */
if header :is "Subject" text:
hello world
.
{ fileinto "TextBlock"; }
