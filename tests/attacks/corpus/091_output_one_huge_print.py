# technique: one print of a 400 MB string
# source: issue brief
# category: output
# expect: ok
print('h' * 400_000_000)
