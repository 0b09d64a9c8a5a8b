# technique: rlm_query with a 100 MB text
# source: issue brief
# category: subcalls
# expect: ok
try:
    rlm_query('summarise', 'T' * 100_000_000)
except Exception as e:
    print(str(e)[:80])
