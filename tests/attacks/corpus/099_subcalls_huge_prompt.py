# technique: HOLE (fixed): llm_query with 50 MB prompts, 8 times: the whole prompts were kept in the run record (420 MB JSON and runs.db)
# source: found by this corpus
# category: subcalls
# expect: ok
big = 'A' * (50 * 1024 * 1024)
for i in range(8):
    try:
        llm_query(big)
    except Exception as e:
        print(str(e)[:60])
