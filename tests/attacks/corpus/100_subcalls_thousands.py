# technique: two thousand llm_query calls (64 allowed) in one step
# source: issue brief
# category: subcalls
# expect: ok
ok = bad = 0
for i in range(2_000):
    try:
        llm_query('q')
        ok += 1
    except Exception:
        bad += 1
print(ok, bad)
