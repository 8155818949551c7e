require ["variables", "fileinto"];
set :upperfirst "a" "hello";
set :length "n" "${a} world";
set :upper :quotewildcard "q" "a*b?";
if string :is "${a}-${n}-${q}" "Hello-11-A\\*B\\?" { fileinto "Mods"; }
