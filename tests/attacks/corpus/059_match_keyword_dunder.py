# technique: match case object(__class__=c)
# source: CTF pyjail write-ups (e.g. HackTricks 'Bypass Python sandboxes')
# category: match
# expect: refused
match llm_query:
    case object(__globals__=g):
        print('ESCAPED', g)
