# technique: one print of a 200 MB string
# source: issue brief
# category: output
# expect: ok
print('h' * 200_000_000)
