# technique: coroutine cr_frame
# source: RestrictedPython PR #255 (inspection frames: tb_frame, gi_frame, f_back)
# category: frames
# expect: refused
async def f():
    return 1
c = f()
print('ESCAPED', c.cr_frame.f_globals)
