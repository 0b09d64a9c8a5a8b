# technique: llm_query_batched with 100,000 prompts and with one huge prompt repeated
# source: issue brief
# category: subcalls
# expect: ok
try:
    llm_query_batched(['p'] * 100_000)
except Exception as e:
    print(str(e)[:80])
try:
    llm_query_batched(['B' * 1_000_000] * 1000)
except Exception as e:
    print(str(e)[:80])
