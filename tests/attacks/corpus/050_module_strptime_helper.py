# technique: import _strptime (the helper datetime's C code imports)
# source: issue brief: datetime/time C internals
# category: modules
# expect: refused
import _strptime
print('ESCAPED', _strptime._os)
