# technique: fullwidth identifier ｅｖａｌ normalised (NFKC) to eval
# source: PEP 3131 NFKC identifiers; CTF pyjail write-ups
# category: unicode
# expect: refused
ｅｖａｌ("__import__('os').system('touch @@CANARY_OUT@@')")
