# technique: print a gigabyte in 1 MiB pieces
# source: issue brief
# category: output
# expect: ok
piece = 'g' * (1 << 20)
for i in range(1024):
    print(piece)
