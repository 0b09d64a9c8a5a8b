# technique: attribute _＿class_＿ normalised to __class__
# source: PEP 3131 NFKC identifiers; CTF pyjail write-ups
# category: unicode
# expect: refused
print('ESCAPED', ()._＿class_＿._＿base_＿)
