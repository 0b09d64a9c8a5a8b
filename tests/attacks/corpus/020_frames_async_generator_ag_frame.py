# technique: async generator ag_frame
# source: RestrictedPython PR #255 (inspection frames: tb_frame, gi_frame, f_back)
# category: frames
# expect: refused
async def ag():
    yield 1
print('ESCAPED', ag().ag_frame.f_back)
