# technique: mathematical bold 𝐨𝐩𝐞𝐧 normalised to open
# source: PEP 3131 NFKC identifiers
# category: unicode
# expect: refused
𝐨𝐩𝐞𝐧('@@CANARY_OUT@@', 'w').write('x')
