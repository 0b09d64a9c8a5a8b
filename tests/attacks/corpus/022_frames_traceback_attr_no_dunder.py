# technique: tb_next / f_back without dunders, via a caught exception's attribute chain
# source: RestrictedPython PR #255 (inspection frames: tb_frame, gi_frame, f_back)
# category: frames
# expect: refused
try:
    llm_query(None).nothing
except Exception as e:
    t = e.with_traceback(None)
    print('ESCAPED', t.tb_next.tb_frame.f_back.f_locals)
