# technique: gi_code / co_consts to rebuild a function
# source: RestrictedPython PR #255 (inspection frames: tb_frame, gi_frame, f_back)
# category: frames
# expect: refused
def g():
    yield 1
print('ESCAPED', g().gi_code.co_consts)
