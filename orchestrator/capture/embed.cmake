# embed.cmake — turn a text file into a C string: cmake -DIN=f -DOUT=f.c -DNAME=sym -P embed.cmake
# Produces `const char NAME[] = "...";` with every byte escaped as hex, so any
# content (quotes, backslashes, non-ASCII) survives.
file(READ ${IN} hex HEX)
string(REGEX REPLACE "(..)" "\\\\x\\1" escaped "${hex}")
string(LENGTH "${escaped}" n)
set(body "")
set(i 0)
while(i LESS n)
  string(SUBSTRING "${escaped}" ${i} 512 chunk)
  string(APPEND body "\"${chunk}\"\n")
  math(EXPR i "${i} + 512")
endwhile()
file(WRITE ${OUT} "/* generated from ${IN} by embed.cmake; do not edit */\nconst char ${NAME}[] =\n${body};\n")
