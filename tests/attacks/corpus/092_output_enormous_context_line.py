# technique: a context with one 50 MB line: grep it, print it, send it to llm_query
# source: issue brief
# category: output
# expect: ok
# input: bigline
hits = context.grep('Z')
print(len(hits), len(hits[0][1]))
print(context.line(2))
try:
    llm_query(context.line(2))
except Exception as e:
    print('refused:', str(e)[:80])
