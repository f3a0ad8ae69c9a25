" .nn files are nnc models (editors/README.md)
autocmd BufRead,BufNewFile *.nn setfiletype nn
