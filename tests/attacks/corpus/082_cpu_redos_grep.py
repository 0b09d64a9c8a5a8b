# technique: catastrophic regex backtracking inside context.grep (C code)
# source: OWASP ReDoS
# category: cpu
# expect: restarted
# input: redos
print(context.grep('(a|aa)+$' if False else '(x+x+)+y'))
