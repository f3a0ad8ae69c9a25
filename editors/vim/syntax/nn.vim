" Vim syntax file for the nnc language (docs/language.md). Install: editors/README.md.
if exists('b:current_syntax')
  finish
endif

syn keyword nnDecl fn layer optimizer model nextgroup=nnDeclName skipwhite
syn match nnDeclName '\h\w*' contained
syn keyword nnKeyword use param state input target output loss minimize over with
syn keyword nnTrain train nextgroup=nnTrainBlock skipwhite
syn keyword nnConditional if else
syn keyword nnRepeat for in
syn keyword nnStatement return
syn keyword nnOperatorWord and or not
syn keyword nnBoolean true false
syn keyword nnType f32 i32 bool int float str
" data batch epochs metrics validation step are keywords only directly inside train { }
syn region nnTrainBlock start='{' end='}' contained transparent contains=TOP,nnTrainBlock
syn keyword nnTrainKeyword data batch epochs metrics validation step contained containedin=nnTrainBlock
syn match nnFloat '\<\d\+\.\d\+\([eE][+-]\=\d\+\)\=\>'
syn match nnFloat '\<\d\+[eE][+-]\=\d\+\>'
syn match nnFloat '\(\.\)\@<!\.\d\+\([eE][+-]\=\d\+\)\=\>'
syn match nnInteger '\<\d\+\>'
syn match nnEscape '\\[\\"nt]' contained
syn region nnString start='"' skip='\\\\\|\\"' end='"\|$' contains=nnEscape oneline
syn keyword nnTodo TODO FIXME XXX NOTE contained
syn match nnComment '#.*$' contains=nnTodo,@Spell
syn match nnOperator '->\|\*\*\|//\|==\|!=\|<=\|>=\|\.\.\|[-+*/%@<>=]'
syn match nnCall '\h\w*\ze('

hi def link nnDecl Structure
hi def link nnDeclName Function
hi def link nnKeyword Keyword
hi def link nnTrain Keyword
hi def link nnTrainKeyword Keyword
hi def link nnConditional Conditional
hi def link nnRepeat Repeat
hi def link nnStatement Statement
hi def link nnOperatorWord Operator
hi def link nnOperator Operator
hi def link nnBoolean Boolean
hi def link nnType Type
hi def link nnFloat Float
hi def link nnInteger Number
hi def link nnString String
hi def link nnEscape SpecialChar
hi def link nnComment Comment
hi def link nnTodo Todo
hi def link nnCall Function

let b:current_syntax = 'nn'
